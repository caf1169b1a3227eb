"""Subwords for translation: a SentencePiece model (BPE or unigram) trained on the training side.

:meth:`Subwords.train` learns the pieces from the training sentences (Kudo & Richardson 2018);
:meth:`Subwords.cut` segments a sentence into them and :meth:`Subwords.join` rebuilds the text
(SentencePiece marks a word start with ``▁``, so joining is exact: whitespace runs become one
space). Settings, chosen for translation and for exact text:

- ``normalization_rule_name="identity"``: no NFKC rewriting, so the output's characters are the
  training text's (BLEU compares them with the reference as written);
- ``character_coverage=1.0``: every training character is a piece (small alphabets: de, en, fr);
- ``hard_vocab_limit=False``: a text too small for ``vocab_size`` pieces gets fewer, not an error;
- only ``<unk>`` as SentencePiece's own special (id 0); rnnkit's vocabulary adds ``<pad>``,
  ``<bos>`` and ``<eos>`` itself, so one vocabulary class serves every segmentation;
- every sentence is used (no sampling) and training is single-threaded: the same text gives the
  same model, byte for byte, so a resumed run rebuilds its own vocabulary.

The model travels as its serialized bytes (a protobuf SentencePiece parses; no code runs), base64
in the checkpoint's document. Lower-casing, when asked, is rnnkit's (``str.lower``) before the model.
Needs the ``sentencepiece`` package (``pip install 'rnnkit[translate]'``).
"""

from __future__ import annotations

import base64
import binascii
import io
from collections.abc import Iterable, Sequence

from ..errors import DataError

#: SentencePiece's two algorithms.
MODEL_TYPES = ("bpe", "unigram")


class Subwords:
    """A trained SentencePiece model as a segmenter. ``model``: its serialized bytes."""

    kind = "subword"

    def __init__(self, model: bytes, lowercase: bool = False, model_type: str = "bpe") -> None:
        spm = _sentencepiece()
        if not isinstance(model, bytes) or not model:
            raise DataError("subword: expected a serialized SentencePiece model (non-empty bytes)")
        processor = spm.SentencePieceProcessor()
        try:
            processor.LoadFromSerializedProto(model)
        except (RuntimeError, OSError, TypeError) as e:  # a damaged or foreign file
            raise DataError(
                f"subword: not a SentencePiece model ({_first_line(e)}); expected a model it wrote"
            ) from None
        if processor.get_piece_size() < 2 or not processor.is_unknown(0):
            raise DataError("subword: the SentencePiece model lacks <unk> at id 0; expected one rnnkit trained")
        self.model, self.lowercase, self.model_type = model, bool(lowercase), model_type
        self._sp = processor

    @classmethod
    def train(cls, texts: Iterable[str], vocab_size: int, model_type: str = "bpe", lowercase: bool = False) -> Subwords:
        """Learn about ``vocab_size`` pieces (``<unk>`` included) from ``texts``."""
        spm = _sentencepiece()
        if model_type not in MODEL_TYPES:
            raise DataError(f"subword: model type expected one of {', '.join(MODEL_TYPES)}, got {model_type!r}")
        if isinstance(vocab_size, bool) or not isinstance(vocab_size, int) or vocab_size < 8:
            raise DataError(f"subword: vocabulary size expected an integer >= 8, got {vocab_size!r}")
        sentences = [t.lower() if lowercase else t for t in texts]
        if not sentences:
            raise DataError("subword: no training sentences; expected at least one")
        out = io.BytesIO()
        try:
            spm.SentencePieceTrainer.train(
                sentence_iterator=iter(sentences),
                model_writer=out,
                vocab_size=vocab_size,
                model_type=model_type,
                normalization_rule_name="identity",
                character_coverage=1.0,
                hard_vocab_limit=False,
                unk_id=0,
                bos_id=-1,
                eos_id=-1,
                pad_id=-1,
                input_sentence_size=0,
                num_threads=1,
                minloglevel=2,
            )
        except RuntimeError as e:
            raise DataError(
                f"subword: SentencePiece could not train {vocab_size} pieces ({_first_line(e)}); "
                "expected a vocabulary size the text supports (at least its distinct characters)"
            ) from None
        return cls(out.getvalue(), lowercase, model_type)

    @property
    def pieces(self) -> list[str]:
        """Every piece but ``<unk>``, in the model's id order (the vocabulary's ordinary symbols)."""
        sp = self._sp
        return [sp.id_to_piece(i) for i in range(sp.get_piece_size()) if not (sp.is_unknown(i) or sp.is_control(i))]

    def cut(self, text: str) -> list[str]:
        """One sentence -> its pieces (a character the model never saw is a piece of its own,
        which the vocabulary reads as ``<unk>``)."""
        return self._sp.encode(text.lower() if self.lowercase else text, out_type=str)

    def join(self, pieces: Sequence[str]) -> str:
        """Pieces (a model's output) -> text."""
        return self._sp.decode_pieces(list(pieces))

    def to_dict(self) -> dict:
        return {
            "kind": self.kind,
            "model_type": self.model_type,
            "lowercase": self.lowercase,
            "model": base64.b64encode(self.model).decode("ascii"),
        }

    @classmethod
    def from_dict(cls, d: dict) -> Subwords:
        model = d.get("model")
        if not isinstance(model, str):
            raise DataError("subword: expected the model as base64 text in 'model'")
        try:
            raw = base64.b64decode(model.encode("ascii"), validate=True)
        except (binascii.Error, UnicodeEncodeError):
            raise DataError("subword: 'model' is not base64; expected the serialized model in base64") from None
        model_type = d.get("model_type", "bpe")
        if model_type not in MODEL_TYPES:
            raise DataError(f"subword: model type expected one of {', '.join(MODEL_TYPES)}, got {model_type!r}")
        return cls(raw, bool(d.get("lowercase", False)), model_type)

    def __eq__(self, other) -> bool:
        return isinstance(other, Subwords) and (self.model, self.lowercase) == (other.model, other.lowercase)

    def __hash__(self) -> int:
        return hash((self.model, self.lowercase))

    def __repr__(self) -> str:
        return f"Subwords({self.model_type}, {self._sp.get_piece_size()} pieces, lowercase={self.lowercase})"


def _sentencepiece():
    try:
        import sentencepiece
    except ImportError:
        raise DataError(
            "subword: tokenisation into subwords needs the sentencepiece package; "
            "expected it installed (pip install 'rnnkit[translate]')"
        ) from None
    return sentencepiece


def _first_line(e: BaseException) -> str:
    text = str(e).strip().splitlines()
    return text[0] if text else type(e).__name__
