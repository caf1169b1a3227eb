"""Defaults of the data component, in one dataclass the entry point composes and overrides."""

from __future__ import annotations

from dataclasses import dataclass

from .corpus import DEFAULT_FRACTIONS, _check_codec, _check_fractions
from .errors import DataError

MODES = ("chars", "lines")


@dataclass
class DataConfig:
    """How a corpus becomes batches.

    Attributes:
        encoding: codec the corpus files are decoded with.
        errors: ``strict`` (fail on undecodable bytes), ``replace`` or ``ignore``.
        mode: ``chars`` (the text is one stream) or ``lines`` (one item per line, framed by
            ``<bos>``/``<eos>``; see :mod:`rnnkit.data.lines`).
        unknown: what encoding does with characters outside the vocabulary: ``error`` or ``skip``.
        split: (train, val, test) fractions of the id stream, contiguous, in that order.
        batch_size: B, parallel streams per batch.
        seq_len: T, steps per window (the truncated-BPTT length). 50 x 50 are char-rnn's defaults.
    """

    encoding: str = "utf-8"
    errors: str = "strict"
    mode: str = "chars"
    unknown: str = "error"
    split: tuple[float, float, float] = DEFAULT_FRACTIONS
    batch_size: int = 50
    seq_len: int = 50

    def validate(self) -> DataConfig:
        """Check every field; returns self. Raises DataError ("expected X, got Y")."""
        _check_codec(self.encoding, self.errors)
        if self.mode not in MODES:
            raise DataError(f"data: expected mode 'chars' or 'lines', got {self.mode!r}")
        if self.unknown not in ("error", "skip"):
            raise DataError(f"data: expected unknown 'error' or 'skip', got {self.unknown!r}")
        self.split = _check_fractions(self.split)
        # Checked here rather than by StreamBatcher's helper so this module stays torch-free.
        for what, value in (("batch size", self.batch_size), ("sequence length", self.seq_len)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise DataError(f"data: expected {what} to be an integer >= 1, got {value!r}")
        return self
