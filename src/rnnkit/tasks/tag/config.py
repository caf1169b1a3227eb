"""The data settings of sequence tagging (``[data]`` of ``rnnkit train tag``)."""

from __future__ import annotations

from dataclasses import dataclass

from rnnkit.data import DataError
from rnnkit.tasks.labelled import LabelledDataConfig

TAG_FORMATS = ("auto", "conllu", "columns")


@dataclass
class TagDataConfig(LabelledDataConfig):
    """How to read, split, tokenise and batch tagged sentences (and the shared fields above; the
    split is by sentence, not stratified; ``lowercase`` folds the words, characters keep their case).

    Attributes:
        column: the CoNLL-U tag column, "upos" or "xpos".
        format: "auto" (CoNLL-U by suffix or shape, else ``token<TAB>tag`` columns), "conllu", "columns".
        word_dropout: alpha of word dropout: in training, a token whose word occurs n times in the
            training data becomes ``<unk>`` with probability alpha / (alpha + n) (teaches the model what
            to do with unseen words; Kiperwasser & Goldberg 2016 use 0.25). 0 = none.
    """

    column: str = "upos"
    format: str = "auto"
    word_dropout: float = 0.0

    def validate(self) -> TagDataConfig:
        if self.column not in ("upos", "xpos"):
            raise DataError(f"data: expected column 'upos' or 'xpos', got {self.column!r}")
        if self.format not in TAG_FORMATS:
            raise DataError(f"data: expected format in {TAG_FORMATS}, got {self.format!r}")
        if not 0.0 <= float(self.word_dropout) <= 100.0:
            raise DataError(f"data: expected word_dropout (alpha) in [0, 100], got {self.word_dropout!r}")
        return super().validate()
