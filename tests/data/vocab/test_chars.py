"""Character streams (CharVocab): ids, vectorised encode/decode, unknown characters, specials, serialisation."""

import json
import re
from unittest import mock

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rnnkit.data.errors import DataError
from rnnkit.data.vocab import BOS, EOS, CharVocab, id_dtype, vocab_from_dict
from rnnkit.data.vocab import codepoints as vocab_module


def raises(msg):
    """pytest.raises for a DataError whose message contains ``msg`` verbatim."""
    return pytest.raises(DataError, match=re.escape(msg))


@pytest.fixture
def small_chunks():
    """Force many tiny chunks so the chunked paths (and their seams) are exercised on short text."""
    with mock.patch.object(vocab_module, "CHUNK_CHARS", 3):
        yield


# ----- building ---------------------------------------------------------------------------------
def test_from_text_sorts_by_code_point_and_puts_specials_first():
    v = CharVocab.from_text("hello, world", specials=(BOS, EOS))
    assert v.specials == (BOS, EOS)
    assert v.ordinary == (" ", ",", "d", "e", "h", "l", "o", "r", "w")
    assert v.symbols == v.specials + v.ordinary
    assert len(v) == 11
    assert (v.bos_id, v.eos_id) == (0, 1)
    assert v.id_of(" ") == 2 and v.id_of("w") == 10 and v.id_of(EOS) == 1


def test_same_text_same_ids_whatever_the_order_of_appearance():
    assert CharVocab.from_text("cab") == CharVocab.from_text("abcabc")


def test_bos_eos_absent_and_custom_specials():
    v = CharVocab.from_text("ab")
    assert v.bos_id is None and v.eos_id is None
    v = CharVocab.from_text("ab", specials=("<pad>", EOS))
    assert v.bos_id is None and v.eos_id == 1


def test_has_and_id_of():
    v = CharVocab.from_text("ab", specials=(BOS,))
    assert v.has("a") and v.has(BOS) and not v.has("c") and not v.has("ab")
    msg = "vocab: symbol 'c' is not in the vocabulary; expected one of its 3 symbols"
    with raises(msg):
        v.id_of("c")


@pytest.mark.parametrize(
    "chars, specials, msg",
    [
        (["a", "bc"], (), "vocab: expected single characters, got 'bc'"),
        (["a", "b", "a"], (), "vocab: expected distinct characters, got 'a' twice"),
        ([], (BOS,), "vocab: expected at least one character, got none"),
        (["a"], ("",), "vocab: expected each special to be a non-empty str, got ''"),
        (["a"], (BOS, BOS), "vocab: expected distinct specials, got '<bos>' twice"),
        (["a", "|"], ("|",), "vocab: special '|' is also a character; expected specials distinct from the chara"),
    ],
)
def test_constructor_rejects_bad_symbols(chars, specials, msg):
    with raises(msg):
        CharVocab(chars, specials)


def test_from_text_errors():
    with raises("text: cannot build a vocabulary from empty text"):
        CharVocab.from_text("")
    with raises("vocab: special '|' also occurs in the text as a character"):
        CharVocab.from_text("a|b", specials=("|",))
    with raises("text: expected a str, got bytes"):
        CharVocab.from_text(b"abc")


# ----- dtypes -----------------------------------------------------------------------------------
def test_id_dtype_thresholds():
    assert id_dtype(2) == np.uint8 and id_dtype(256) == np.uint8
    assert id_dtype(257) == np.uint16 and id_dtype(65536) == np.uint16
    assert id_dtype(65537) == np.uint32


def test_small_vocab_encodes_to_uint8_large_to_uint16():
    small = CharVocab.from_text("abc")
    assert small.encode("cab").dtype == np.uint8
    text = "".join(chr(c) for c in range(0x100, 0x100 + 300))  # 300 symbols > 256
    big = CharVocab.from_text(text)
    ids = big.encode(text)
    assert ids.dtype == np.uint16 and big.dtype == np.uint16
    np.testing.assert_array_equal(ids, np.arange(300))
    assert big.decode(ids) == text


# ----- encode / decode --------------------------------------------------------------------------
def test_encode_decode_round_trip_across_chunks(small_chunks):
    text = "The quick brown fox\njumps over 🦊 the lazy dog.\r\n"
    v = CharVocab.from_text(text)
    ids = v.encode(text)
    assert ids.shape == (len(text),)
    assert [v.symbols[i] for i in ids] == list(text)
    assert v.decode(ids) == text
    assert v.decode(list(ids)) == text
    assert v.decode([]) == ""
    assert v.encode("").shape == (0,)


@pytest.mark.parametrize(
    "text",
    [
        "a\U0001f600b\udcff",  # an emoji (4 UTF-8 bytes) and a surrogate left by surrogateescape
        "naïve \xff\x00",  # every code point below U+0100: the one-byte decode path
    ],
)
def test_non_ascii_round_trip(text, small_chunks):
    v = CharVocab.from_text(text)
    assert v.decode(v.encode(text)) == text


def test_unknown_characters_raise_with_their_names():
    v = CharVocab.from_text("abc")
    msg = (
        "text: characters not in the vocabulary: 'é', '—' (2 distinct); expected only the model's "
        "characters, or --unknown skip"
    )
    with raises(msg):
        v.encode("ab—cé—é")


def test_unknown_message_lists_at_most_ten(small_chunks):
    v = CharVocab.from_text("a")
    with raises("'j', 'k', ... (15 distinct)") as err:
        v.encode("a" + "bcdefghijklmnop" * 2)
    assert "'l'" not in str(err.value) and "\n" not in str(err.value)


def test_unknown_skip_and_unknown_symbols(small_chunks):
    v = CharVocab.from_text("abc")
    text = "axbyc\U0001f600a\x00"
    assert v.decode(v.encode(text, unknown="skip")) == "abca"
    assert v.unknown_symbols(text) == ["\x00", "x", "y", "\U0001f600"]
    assert v.unknown_symbols("cab") == []
    assert v.encode("zzz", unknown="skip").shape == (0,)
    with raises("text: expected unknown='error' or 'skip', got 'drop'"):
        v.encode("a", unknown="drop")


def test_decode_specials():
    v = CharVocab.from_text("ab", specials=(BOS, EOS))
    ids = [0, 2, 3, 1, 0, 3, 1]
    assert v.decode(ids) == "<bos>ab<eos><bos>b<eos>"
    assert v.decode(np.array(ids, dtype=np.uint8), skip_specials=True) == "abb"
    assert v.decode([1]) == "<eos>"


def test_decode_rejects_bad_ids():
    v = CharVocab.from_text("ab")
    with raises("ids: id 2 is out of range; expected 0 <= id < 2"):
        v.decode([0, 2])
    with raises("ids: id -1 is out of range"):
        v.decode([-1, 0])
    with raises("ids: expected a 1-D sequence of integer ids, got shape (1, 2)"):
        v.decode([[0, 1]])
    with raises("dtype float64"):
        v.decode([0.5])


@settings(max_examples=30, deadline=None)
@given(st.text(alphabet="ab\n é€😀", min_size=1, max_size=40), st.data())
def test_round_trip_property(alphabet_text, data):
    v = CharVocab.from_text(alphabet_text, specials=(BOS, EOS))
    text = data.draw(st.text(alphabet=sorted(set(alphabet_text)), max_size=50))
    with mock.patch.object(vocab_module, "CHUNK_CHARS", 7):
        ids = v.encode(text)
        assert v.decode(ids) == text
    assert ids.dtype == np.uint8 and (ids >= 2).all()


# ----- serialisation ----------------------------------------------------------------------------
def test_to_dict_from_dict_round_trip_through_json():
    v = CharVocab.from_text("hello\nhéllo😀", specials=(BOS, EOS))
    d = v.to_dict()
    assert d == {"kind": "char", "specials": [BOS, EOS], "chars": ["\n", "e", "h", "l", "o", "é", "😀"]}
    d2 = json.loads(json.dumps(d))
    assert CharVocab.from_dict(d2) == v
    assert vocab_from_dict(d2) == v
    assert vocab_from_dict(d2).encode("hello").tolist() == v.encode("hello").tolist()


def test_from_dict_errors():
    with raises("vocab: unknown vocabulary kind 'bpe'; expected one of 'char', 'word', 'tokens'"):
        vocab_from_dict({"kind": "bpe"})
    with raises("vocab: expected a dict with a 'kind' field, got list"):
        vocab_from_dict([])
    with raises("vocab: expected kind 'char', got 'word'"):
        CharVocab.from_dict({"kind": "word", "specials": [], "chars": ["a"]})
    with raises("vocab: expected a list under 'chars', got str"):
        CharVocab.from_dict({"kind": "char", "specials": [], "chars": "ab"})
