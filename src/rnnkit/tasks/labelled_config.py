"""Data settings of the padded-batch tasks: sequence classification and sequence tagging.

One dataclass per task, with its defaults; TOML ``[data]`` tables and CLI flags override them
(``rnnkit.config.override``), and the resolved values are stored in every checkpoint, so ``predict``,
``tag`` and ``eval`` read new text exactly as training did.
"""

from __future__ import annotations

from dataclasses import dataclass

from rnnkit.data import TOKEN_KINDS, DataError

CLASS_WEIGHTS = ("none", "balanced")
HEADER_MODES = ("auto", "yes", "no")
TAG_FORMATS = ("auto", "conllu", "columns")


@dataclass
class LabelledDataConfig:
    """What both tasks share: decoding, the vocabulary, held-out data, the split and the batches.

    Attributes:
        lowercase / min_freq / max_vocab: the vocabulary (``max_vocab`` 0 = no cap; specials count).
        encoding / errors: how files are decoded.
        valid / test: separate held-out files; without them the data is split by ``split``
            (train, val, test fractions) with ``split_seed``.
        batch_size / bucket: padded batches of B sequences, grouped by similar length.
    """

    lowercase: bool = False
    min_freq: int = 1
    max_vocab: int = 0
    encoding: str = "utf-8"
    errors: str = "strict"
    valid: str = ""
    test: str = ""
    split: tuple = (0.8, 0.1, 0.1)
    split_seed: int = 1234
    batch_size: int = 32
    bucket: bool = True

    def validate(self):
        for name, low in (("min_freq", 1), ("max_vocab", 0), ("batch_size", 1), ("split_seed", 0)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise DataError(f"data: expected {name} to be an integer >= {low}, got {value!r}")
        split = tuple(self.split)
        if len(split) != 3 or any(not 0 <= f < 1 for f in split) or abs(sum(split) - 1) > 1e-6 or split[0] <= 0:
            raise DataError(
                f"data: expected split = three fractions (train, val, test) in [0, 1) summing to 1, got {self.split!r}"
            )
        return self


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
