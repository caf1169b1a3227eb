"""Sequence vocabularies (TokenVocab): <pad>, <unk>, then tokens by frequency; options; round trips."""

import pytest

from rnnkit.data.errors import DataError
from rnnkit.data.vocab import PAD_ID, UNK_ID, TokenVocab, split_tokens


def test_layout_is_pad_unk_then_by_frequency_then_token():
    v = TokenVocab.from_texts(["b a a", "c b a"], "word")
    assert v.symbols == ("<pad>", "<unk>", "a", "b", "c")
    assert (PAD_ID, UNK_ID) == (0, 1)
    assert v.encode("a c zzz") == [2, 4, UNK_ID]


def test_min_freq_max_size_and_lowercase():
    texts = ["The the THE cat", "cat dog"]
    assert TokenVocab.from_texts(texts, min_freq=2).symbols[2:] == ("cat",)
    lower = TokenVocab.from_texts(texts, lowercase=True)
    assert lower.symbols[2:] == ("the", "cat", "dog")
    assert lower.encode("THE Cat") == [2, 3]
    assert TokenVocab.from_texts(texts, lowercase=True, max_size=3).symbols == ("<pad>", "<unk>", "the")


def test_chars_keep_spaces_inside_and_strip_ends():
    assert split_tokens("  ab c ", "char") == ["a", "b", " ", "c"]
    v = TokenVocab.from_texts(["abc"], "char")
    assert v.encode("cab") == [4, 2, 3]


def test_literal_specials_in_data_are_the_special_tokens():
    v = TokenVocab.from_texts(["<unk> <pad> a"])
    assert v.symbols == ("<pad>", "<unk>", "a")


def test_round_trip_through_dict():
    v = TokenVocab.from_texts(["x y z"], "word", lowercase=True)
    assert TokenVocab.from_dict(v.to_dict()) == v


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"min_freq": 0}, "expected min_freq to be an integer >= 1, got 0"),
        ({"max_size": 2}, "expected max_size 0 (no cap) or > 2, got 2"),
        ({"min_freq": 5}, "no token occurs at least min_freq=5 times"),
    ],
)
def test_bad_options(kwargs, message):
    with pytest.raises(DataError, match=message.replace("(", r"\(").replace(")", r"\)")):
        TokenVocab.from_texts(["a b"], **kwargs)
