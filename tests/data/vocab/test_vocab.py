"""The one Vocab class: declared specials (all four together), the four tokenisations, the stored forms
(every form in the v0 checkpoints reads back and writes back byte for byte), and the presets' layouts."""

import json
import re
from pathlib import Path

import numpy as np
import pytest

from rnnkit.checkpoint import read_meta
from rnnkit.data import BOS, EOS, PAD, UNK, CharVocab, DataError, TokenVocab, Vocab, WordVocab, vocab_from_dict

V0 = Path(__file__).resolve().parents[2] / "fixtures" / "v0"
ALL_FOUR = (PAD, UNK, BOS, EOS)


def raises(msg):
    """pytest.raises for a DataError whose message contains ``msg`` verbatim."""
    return pytest.raises(DataError, match=re.escape(msg))


# ----- declared specials --------------------------------------------------------------------------
def test_a_sequence_vocabulary_with_all_four_specials():
    v = Vocab.from_texts(["a b a", "c <bos> a"], ALL_FOUR, tokens="word")
    assert v.symbols == (PAD, UNK, BOS, EOS, "a", "b", "c")  # a literal special is the special, not a token
    assert (v.pad_id, v.unk_id, v.bos_id, v.eos_id) == (0, 1, 2, 3)
    ids = v.encode("a zzz c")
    assert ids == [4, 1, 6] and isinstance(ids, list)
    assert v.decode([2, 4, 1, 6, 3, 0]) == [BOS, "a", UNK, "c", EOS, PAD]
    assert v.decode([2, 4, 1, 6, 3, 0], skip_specials=True) == ["a", "c"]
    assert v.encode("a zzz", unknown="skip") == [4]
    with raises(
        "text: words not in the vocabulary: 'zzz' (1 distinct); expected only the model's words, or --unknown unk"
    ):
        v.encode("a zzz", unknown="error")


def test_specials_are_optional_and_their_ids_follow_the_declared_order():
    v = Vocab(["x", "y"], (EOS, BOS), tokens="char")
    assert (v.pad_id, v.unk_id, v.bos_id, v.eos_id) == (None, None, 1, 0)
    assert v.encode("xy") == [2, 3]
    with raises("text: characters not in the vocabulary: 'z' (1 distinct); expected only the model's characters, or"):
        v.encode("xz")  # no <unk> declared: unknown tokens are an error by default
    with raises("text: expected unknown='error' or 'skip', got 'unk'"):
        v.encode("x", unknown="unk")


def test_a_word_stream_with_all_four_specials_keeps_eos_as_the_line_end():
    v = Vocab.from_texts(["the cat\nthe dog\n"], ALL_FOUR, tokens="word", stream=True)
    assert v.symbols[:4] == ALL_FOUR and v.ordinary == ("the", "cat", "dog")
    ids = v.encode("the cow\n")
    assert ids.dtype == np.uint8 and ids.tolist() == [4, 1, 3]
    assert v.decode(ids) == "the <unk>\n" and v.decode(ids, skip_specials=True) == "the\n"
    assert v.decode([v.bos_id, 4, 5, 3]) == "<bos> the cat\n"


def test_a_character_stream_with_unk_maps_unknown_characters_to_it():
    v = Vocab(["a", "b"], (UNK,), tokens="char", stream=True)
    assert v.encode("abxa").tolist() == [1, 2, 0, 1]  # <unk> declared: the default is "unk"
    assert v.encode("abxa", unknown="skip").tolist() == [1, 2, 1]
    with raises("expected only the model's characters, or --unknown unk (map them to <unk>) or skip"):
        v.encode("x", unknown="error")


def test_has_and_id_of_of_a_stream_and_of_a_sequence():
    stream = WordVocab.from_text("a b\n")
    assert stream.has(UNK) and stream.has("a") and not stream.has("z")
    with raises("vocab: word 'z' is not in the vocabulary; expected one of its 4 words"):
        stream.id_of("z")
    sequence = TokenVocab.from_texts(["A b"], lowercase=True)
    assert sequence.id_of("z") == sequence.unk_id == 1 and sequence.id_of("B") == sequence.id_of("b")
    assert sequence.has("a") and sequence.has("A") and not sequence.has("z") and not sequence.has(UNK)


@pytest.mark.parametrize(
    "args, kwargs, msg",
    [
        ((["a"], (UNK,)), {"tokens": "word", "stream": True}, "expected '<eos>' among the specials of a word stream"),
        ((["a"], (EOS, UNK)), {"stream": True, "tokens": "word", "lowercase": True}, "expected lowercase only for"),
        ((["a"], ()), {"tokens": "bytes"}, "vocab: expected tokens in ('word', 'char'), got 'bytes'"),
        ((["a"], (PAD, PAD)), {}, "vocab: expected distinct specials, got '<pad>' twice"),
        ((["<eos>"], ALL_FOUR), {}, "expected non-empty token strings other than ('<pad>', '<unk>', '<bos>', '<eos>')"),
    ],
)
def test_bad_layouts(args, kwargs, msg):
    with raises(msg):
        Vocab(*args, **kwargs)


# ----- stored forms -------------------------------------------------------------------------------
def test_a_new_layout_stores_its_specials_and_reads_back():
    v = Vocab(["b", "a"], ALL_FOUR, tokens="char", lowercase=True)
    d = json.loads(json.dumps(v.to_dict()))
    assert d == {
        "kind": "tokens",
        "tokens": "char",
        "lowercase": True,
        "symbols": ["b", "a"],
        "specials": list(ALL_FOUR),
    }
    assert vocab_from_dict(d) == v and Vocab.from_dict(d) == v
    w = Vocab(["x"], (BOS, EOS, UNK), tokens="word", stream=True)
    assert w.to_dict() == {"kind": "word", "specials": [BOS, EOS, UNK], "words": ["x"]}
    assert vocab_from_dict(w.to_dict()) == w
    with raises("expected specials ['<eos>', '<unk>'], got ['<bos>', '<eos>', '<unk>']"):
        WordVocab.from_dict(w.to_dict())  # the word-LM layout is exactly <eos>, <unk>


def stored_vocabularies():
    for path in sorted(V0.glob("*/latest.safetensors")):
        meta = read_meta(path)
        for key in ("vocab", "chars"):
            if isinstance(meta.get(key), dict):
                yield pytest.param(meta[key], id=f"{path.parent.name}-{key}")


@pytest.mark.parametrize("stored", list(stored_vocabularies()))
def test_every_v0_checkpoint_vocabulary_reads_back_and_writes_the_same_bytes(stored):
    v = vocab_from_dict(stored)
    assert v.to_dict() == stored  # what resume compares
    assert json.dumps(v.to_dict()) == json.dumps(stored)  # key order too: the bytes in the checkpoint
    legacy = {"char": CharVocab, "word": WordVocab, "tokens": TokenVocab}[stored["kind"]]
    assert legacy.from_dict(stored) == v


def test_old_forms_without_optional_keys():
    assert WordVocab.from_dict({"kind": "word", "words": ["a"]}).specials == (EOS, UNK)
    t = TokenVocab.from_dict({"kind": "tokens", "symbols": ["a"]})
    assert (t.tokens, t.lowercase, t.specials) == ("word", False, (PAD, UNK))


# ----- the presets are layouts of Vocab ----------------------------------------------------------
def test_presets_build_vocabs_with_their_layouts():
    assert CharVocab(["a", "b"], (BOS, EOS)) == Vocab(["a", "b"], (BOS, EOS), tokens="char", stream=True)
    assert WordVocab(["a"]) == Vocab(["a"], (EOS, UNK), tokens="word", stream=True)
    assert TokenVocab(["a"], "char") == Vocab(["a"], (PAD, UNK), tokens="char")
    kinds = [type(p) for p in (CharVocab(["a"]), WordVocab(["a"]), TokenVocab(["a"]))]
    assert kinds == [Vocab] * 3
    assert [CharVocab.kind, WordVocab.kind, TokenVocab.kind] == [
        CharVocab(["a"]).kind,
        WordVocab(["a"]).kind,
        TokenVocab(["a"]).kind,
    ]
    assert CharVocab(["a"]) != WordVocab(["a"]) and hash(TokenVocab(["a"])) == hash(TokenVocab(["a"]))
