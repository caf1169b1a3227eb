"""Subwords: a SentencePiece model trained on the training side, deterministic, exact join, stored
in a dict and read back, and the bad inputs as one-line DataErrors."""

import base64
import re

import pytest

from rnnkit.data.errors import DataError
from rnnkit.data.segment import Subwords, segmenter_from_dict

pytest.importorskip("sentencepiece", reason="installed by make test ([dev] extra); needed for subwords")

TEXTS = [
    "Ein Hund läuft durch den Park.",
    "Zwei Männer spielen Fußball auf der Wiese.",
    "Eine Frau liest ein Buch im Park.",
    "Ein kleiner Junge spielt mit einem Hund.",
    "Mehrere Menschen stehen vor einem Gebäude.",
] * 20


def raises(msg):
    return pytest.raises(DataError, match=re.escape(msg))


@pytest.fixture(scope="module")
def bpe():
    return Subwords.train(TEXTS, vocab_size=80)


def test_training_is_deterministic_and_joins_exactly(bpe):
    assert Subwords.train(TEXTS, vocab_size=80).model == bpe.model
    for text in ["Ein Hund spielt im Park.", "Zwei  Frauen lesen.", "Qué? Ünbekannt"]:
        assert bpe.join(bpe.cut(text)) == " ".join(text.split())
    pieces = bpe.pieces
    assert "<unk>" not in pieces and len(pieces) == len(set(pieces)) and len(pieces) <= 79
    assert all(p in pieces for p in bpe.cut("Ein Hund läuft."))  # seen characters: known pieces


def test_unigram_and_lowercase():
    uni = Subwords.train(TEXTS, vocab_size=60, model_type="unigram", lowercase=True)
    assert uni.model_type == "unigram"
    assert uni.join(uni.cut("EIN HUND")) == "ein hund"


def test_dict_round_trip_and_damaged_models(bpe):
    d = bpe.to_dict()
    assert d["kind"] == "subword" and isinstance(d["model"], str)
    back = segmenter_from_dict(d)
    assert back == bpe and back.cut("Ein Hund.") == bpe.cut("Ein Hund.")
    with raises("subword: 'model' is not base64; expected the serialized model in base64"):
        segmenter_from_dict({**d, "model": "not base64!"})
    with raises("subword: not a SentencePiece model"):
        segmenter_from_dict({**d, "model": base64.b64encode(b"\x00garbage" * 10).decode()})
    with raises("segmenter: expected kind 'word' or 'subword', got 'bpe'"):
        segmenter_from_dict({"kind": "bpe"})


def test_bad_training_settings():
    with raises("subword: vocabulary size expected an integer >= 8, got 3"):
        Subwords.train(TEXTS, vocab_size=3)
    with raises("subword: model type expected one of bpe, unigram, got 'char'"):
        Subwords.train(TEXTS, vocab_size=50, model_type="char")
    with raises("subword: SentencePiece could not train 8 pieces"):
        Subwords.train(TEXTS, vocab_size=8)  # fewer than the text's distinct characters
    with raises("subword: no training sentences; expected at least one"):
        Subwords.train([], vocab_size=50)
