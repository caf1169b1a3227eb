"""The data settings of translation (``[data]`` of ``rnnkit train translate``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from rnnkit.data import DataError
from rnnkit.data.segment import MODEL_TYPES
from rnnkit.tasks.labelled import LabelledDataConfig

#: How sentences are cut: the documented word rule, or SentencePiece subwords.
SEGMENTATIONS = ("word", "subword")


@dataclass
class TranslateDataConfig(LabelledDataConfig):
    """How to read, split, segment and batch parallel text (and the shared fields of
    ``LabelledDataConfig``: lowercase, min_freq / max_vocab for words, encoding, valid / test,
    split, split_seed, batch_size, bucket).

    Attributes:
        tokens: "word" (``rnnkit.data.segment.words``: punctuation split off, joiners) or "subword"
            (a SentencePiece model trained on the training side).
        subword_vocab / subword_model: the SentencePiece model's size and kind ("bpe", "unigram").
        shared_vocab: one vocabulary (and one subword model) for both sides, else one per side.
        source_column / target_column: the 0-based columns of a pair table.
        valid_target / test_target: the target side of held-out aligned files (``valid`` /
            ``test`` then hold the source side); without them ``valid`` / ``test`` are pair tables.
        max_length: training pairs with a side of more than this many tokens are dropped (counted;
            0 = keep all); held-out pairs are always kept whole.
        bleu_sentences: validation BLEU (``--monitor val_bleu``) decodes at most this many
            validation sentences, greedily (0: no BLEU while training).
    """

    HELD_OUT: ClassVar = ("valid", "valid_target", "test", "test_target")

    tokens: str = "word"
    subword_vocab: int = 8000
    subword_model: str = "bpe"
    shared_vocab: bool = False
    source_column: int = 0
    target_column: int = 1
    valid_target: str = ""
    test_target: str = ""
    max_length: int = 0
    bleu_sentences: int = 500
    split: tuple = (0.9, 0.05, 0.05)
    batch_size: int = 64

    def validate(self) -> TranslateDataConfig:
        if self.tokens not in SEGMENTATIONS:
            raise DataError(f"data: expected tokens in {SEGMENTATIONS}, got {self.tokens!r}")
        if self.subword_model not in MODEL_TYPES:
            raise DataError(f"data: expected subword_model in {MODEL_TYPES}, got {self.subword_model!r}")
        for name, low in (("subword_vocab", 8), ("source_column", 0), ("target_column", 0), ("max_length", 0)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise DataError(f"data: expected {name} to be an integer >= {low}, got {value!r}")
        if isinstance(self.bleu_sentences, bool) or not isinstance(self.bleu_sentences, int) or self.bleu_sentences < 0:
            raise DataError(f"data: expected bleu_sentences to be an integer >= 0, got {self.bleu_sentences!r}")
        for side in ("valid", "test"):
            if getattr(self, f"{side}_target") and not getattr(self, side):
                raise DataError(
                    f"data: {side}_target is given without {side}; expected --{side}-source FILE with "
                    f"--{side}-target FILE (aligned files) or --{side} PAIRS.tsv"
                )
        return super().validate()
