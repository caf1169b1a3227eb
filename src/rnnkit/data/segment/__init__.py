"""Segmenters: how a translation task cuts a sentence into tokens, and how it rebuilds the text.

Two kinds, one interface (``cut(text) -> tokens``, ``join(tokens) -> text``, ``to_dict`` /
:func:`segmenter_from_dict` for the checkpoint):

- :class:`Words` (``--tokens word``): the documented word rule of :mod:`.words`: punctuation split
  off, with a joiner mark so the text is rebuilt exactly;
- :class:`~.subwords.Subwords` (``--tokens subword``): a SentencePiece model trained on the
  training side (:mod:`.subwords`).

The tokens then go through a :class:`rnnkit.data.vocab.Vocab` of sequence tokens, as every padded
task's do. Needs nothing beyond the standard library (``Subwords`` needs sentencepiece).
"""

from __future__ import annotations

from collections.abc import Sequence

from ..errors import DataError
from .subwords import MODEL_TYPES, Subwords
from .words import JOINER, cut_words, join_words


class Words:
    """The word rule of :mod:`.words` as a segmenter."""

    kind = "word"

    def __init__(self, lowercase: bool = False) -> None:
        self.lowercase = bool(lowercase)

    def cut(self, text: str) -> list[str]:
        return cut_words(text, self.lowercase)

    def join(self, tokens: Sequence[str]) -> str:
        return join_words(tokens)

    def to_dict(self) -> dict:
        return {"kind": self.kind, "lowercase": self.lowercase}

    def __eq__(self, other) -> bool:
        return isinstance(other, Words) and self.lowercase == other.lowercase

    def __hash__(self) -> int:
        return hash(("word", self.lowercase))

    def __repr__(self) -> str:
        return f"Words(lowercase={self.lowercase})"


Segmenter = Words | Subwords


def segmenter_from_dict(d) -> Segmenter:
    """The segmenter a checkpoint stored (``to_dict``); a bad dict is a DataError naming what."""
    if not isinstance(d, dict):
        raise DataError(f"segmenter: expected a dict, got {type(d).__name__}")
    kind = d.get("kind")
    if kind == Words.kind:
        return Words(bool(d.get("lowercase", False)))
    if kind == Subwords.kind:
        return Subwords.from_dict(d)
    raise DataError(f"segmenter: expected kind 'word' or 'subword', got {kind!r}")


__all__ = ["JOINER", "MODEL_TYPES", "Segmenter", "Subwords", "Words", "cut_words", "join_words", "segmenter_from_dict"]
