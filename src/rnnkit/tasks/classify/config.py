"""The data settings of sequence classification (``[data]`` of ``rnnkit train classify``)."""

from __future__ import annotations

from dataclasses import dataclass

from rnnkit.data import TOKEN_KINDS, DataError
from rnnkit.tasks.labelled import LabelledDataConfig

CLASS_WEIGHTS = ("none", "balanced")
HEADER_MODES = ("auto", "yes", "no")


@dataclass
class ClassifyDataConfig(LabelledDataConfig):
    """How to read, split, tokenise and batch labelled sequences (and the shared fields above).

    Attributes:
        tokens: "word" (whitespace words) or "char" (characters, e.g. names).
        text_column / label_column: table columns by header name or 0-based number ("" = the usual
            names: sentence/text/..., label/class/...; else the first and last columns).
        delimiter: table field separator ("" = from the suffix: .tsv tab, .csv comma).
        header: "auto" (detect), "yes", "no".
        stratify: split each label's examples in the ``split`` proportions.
        max_length: keep at most this many tokens per sequence (0 = all).
        class_weights: "balanced" weighs each class's loss by N / (C * count) (class imbalance).
    """

    tokens: str = "word"
    text_column: str = ""
    label_column: str = ""
    delimiter: str = ""
    header: str = "auto"
    stratify: bool = True
    max_length: int = 0
    class_weights: str = "none"

    def validate(self) -> ClassifyDataConfig:
        if self.tokens not in TOKEN_KINDS:
            raise DataError(f"data: expected tokens in {TOKEN_KINDS}, got {self.tokens!r}")
        if self.header not in HEADER_MODES:
            raise DataError(f"data: expected header in {HEADER_MODES}, got {self.header!r}")
        if self.class_weights not in CLASS_WEIGHTS:
            raise DataError(f"data: expected class_weights in {CLASS_WEIGHTS}, got {self.class_weights!r}")
        if self.max_length < 0:
            raise DataError(f"data: expected max_length >= 0, got {self.max_length!r}")
        return super().validate()

    def column(self, name: str) -> str | int | None:
        """A column option as read_labelled takes it: None (default), a 0-based number, or a name."""
        value = getattr(self, name)
        if value == "":
            return None
        return int(value) if value.isdigit() else value
