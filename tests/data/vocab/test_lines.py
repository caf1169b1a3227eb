"""Line mode: each non-empty line becomes <bos> chars <eos>."""

import re

import numpy as np
import pytest

from rnnkit.data import BOS, EOS, CharVocab, DataError, line_vocab, lines_to_ids, split_lines


def raises(msg):
    """pytest.raises for a DataError whose message contains ``msg`` verbatim."""
    return pytest.raises(DataError, match=re.escape(msg))


def test_split_lines_drops_empty_lines_and_carriage_returns():
    assert split_lines("anna\r\n\nbob\n \n\ncy") == ["anna", "bob", " ", "cy"]
    assert split_lines("\n\n") == []


def test_line_vocab_has_the_specials_and_no_newline():
    v = line_vocab("bob\r\nanna\n")
    assert v.specials == (BOS, EOS) and v.ordinary == ("a", "b", "n", "o")


def test_each_line_is_framed_by_bos_and_eos():
    text = "anna\n\nbob\r\n"
    v = line_vocab(text)
    ids = lines_to_ids(text, v)
    assert ids.dtype == np.uint8
    assert v.decode(ids) == "<bos>anna<eos><bos>bob<eos>"
    b, e = v.bos_id, v.eos_id
    a, n, o, bb = (v.id_of(c) for c in "anob")
    assert ids.tolist() == [b, a, n, n, a, e, b, bb, o, bb, e]


def test_vocab_without_specials_is_rejected():
    v = CharVocab.from_text("anna", specials=(BOS,))
    msg = "lines: the vocabulary has specials ('<bos>',); expected both '<bos>' and '<eos>'"
    with raises(msg):
        lines_to_ids("anna", v)


def test_unknown_characters_error_or_skip():
    v = line_vocab("ab")
    with raises("text: characters not in the vocabulary: 'x' (1 distinct)"):
        lines_to_ids("ab\naxb\n", v)
    ids = lines_to_ids("ab\naxb\nxx\n", v, unknown="skip")  # a line left empty is dropped
    assert v.decode(ids) == "<bos>ab<eos><bos>ab<eos>"
    with raises("lines: expected unknown='error' or 'skip', got 'keep'"):
        lines_to_ids("ab", v, unknown="keep")


def test_text_without_lines_is_rejected():
    with raises("lines: the text has no non-empty line; expected one item per line"):
        lines_to_ids("\n\r\n", line_vocab("a"))
