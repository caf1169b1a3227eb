"""Data settings of the language models (``[data]``), in one dataclass the entry point composes and overrides."""

from __future__ import annotations

from dataclasses import dataclass

from rnnkit.data import DEFAULT_FRACTIONS, DataError, check_codec, check_fractions

MODES = ("chars", "lines")
TOKENS = ("char", "word")


@dataclass
class DataConfig:
    """How a corpus becomes batches.

    Attributes:
        encoding: codec the corpus files are decoded with.
        errors: ``strict`` (fail on undecodable bytes), ``replace`` or ``ignore``.
        mode: ``chars`` (the text is one stream) or ``lines`` (one item per line, framed by
            ``<bos>``/``<eos>``; see :mod:`rnnkit.data.vocab.lines`).
        unknown: what encoding does with characters outside the vocabulary: ``error`` or ``skip``.
        tokens: ``char`` (every character a token) or ``word`` (whitespace-separated words with
            ``<eos>`` per line and ``<unk>`` for rare or unseen words; see :mod:`rnnkit.data.vocab.tokenize`).
        vocab_size: word tokens: the largest vocabulary, ``<eos>`` and ``<unk>`` included (0: no limit).
        min_freq: word tokens: words seen fewer times in the training text become ``<unk>``.
        split: (train, val, test) fractions of the id stream, contiguous, in that order. Ignored
            when ``valid`` or ``test`` names a file: then the main data is all training text.
        valid / test: explicit held-out files (e.g. PTB's ptb.valid.txt / ptb.test.txt); "" = none.
        batch_size: B, parallel streams per batch.
        seq_len: T, steps per window (the truncated-BPTT length). 50 x 50 are char-rnn's defaults.
    """

    encoding: str = "utf-8"
    errors: str = "strict"
    mode: str = "chars"
    unknown: str = "error"
    tokens: str = "char"
    vocab_size: int = 0
    min_freq: int = 1
    split: tuple[float, float, float] = DEFAULT_FRACTIONS
    valid: str = ""
    test: str = ""
    batch_size: int = 50
    seq_len: int = 50

    def validate(self) -> DataConfig:
        """Check every field; returns self. Raises DataError ("expected X, got Y")."""
        check_codec(self.encoding, self.errors)
        if self.mode not in MODES:
            raise DataError(f"data: expected mode 'chars' or 'lines', got {self.mode!r}")
        if self.unknown not in ("error", "skip"):
            raise DataError(f"data: expected unknown 'error' or 'skip', got {self.unknown!r}")
        if self.tokens not in TOKENS:
            raise DataError(f"data: expected tokens 'char' or 'word', got {self.tokens!r}")
        if self.tokens == "word" and self.mode == "lines":
            raise DataError(
                "data: expected line mode with character tokens only, got tokens 'word' (word tokens "
                "already end every line with <eos>)"
            )
        for what, value, low in (("vocabulary size", self.vocab_size, 0), ("minimum frequency", self.min_freq, 1)):
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise DataError(f"data: expected {what} to be an integer >= {low}, got {value!r}")
        if 0 < self.vocab_size < 3:
            raise DataError(
                f"data: expected vocabulary size 0 (no limit) or >= 3 (<eos>, <unk> and a word), got {self.vocab_size}"
            )
        for what, value in (("valid", self.valid), ("test", self.test)):
            if not isinstance(value, str):
                raise DataError(f"data: expected the {what} file as a path string, got {value!r}")
        self.split = check_fractions(self.split)
        # Checked here rather than by StreamBatcher's helper so this module stays torch-free.
        for what, value in (("batch size", self.batch_size), ("sequence length", self.seq_len)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise DataError(f"data: expected {what} to be an integer >= 1, got {value!r}")
        return self
