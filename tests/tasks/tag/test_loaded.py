"""``LoadedTagger.tag``: token lists in, tags out (as given); plain text in, (word, tag) pairs out, the
text cut by ``rnnkit.data.ud_tokenize`` (the rule ``rnnkit tag`` applies); the errors."""

from pathlib import Path

import pytest

import rnnkit
import rnnkit.checkpoint
from rnnkit.data import ud_tokenize

V0 = Path(__file__).resolve().parents[2] / "fixtures" / "v0"


@pytest.fixture(scope="module")
def tagger():
    return rnnkit.load(V0 / "tag")  # 3 tags: DET, NOUN, VERB


def test_token_lists_give_tag_lists(tagger):
    tags = tagger.tag([["the", "cat", "sat"], ["a", "dog"]])
    assert [len(row) for row in tags] == [3, 2] and {t for row in tags for t in row} <= set(tagger.tags)


def test_a_text_gives_word_tag_pairs_cut_as_ud_cuts_it(tagger):
    pairs = tagger.tag("it's not butter!")
    assert [w for w, _ in pairs] == ["it", "'s", "not", "butter", "!"]
    assert [t for _, t in pairs] == tagger.tag([ud_tokenize("it's not butter!")])[0]


def test_a_list_of_texts_gives_one_list_of_pairs_per_text(tagger):
    texts = ["the cat can't see.", "a dog"]
    got = tagger.tag(texts, batch_size=1)
    assert got == [tagger.tag(texts[0]), tagger.tag(texts[1])]
    assert [w for w, _ in got[0]] == ["the", "cat", "ca", "n't", "see", "."]


def test_token_lists_are_taken_as_given(tagger):
    assert len(tagger.tag([["it's", "butter!"]])[0]) == 2  # no tokeniser on pre-tokenised input


def test_errors(tagger):
    with pytest.raises(ValueError, match="expected a list of texts or a list of token lists, got both"):
        tagger.tag(["the cat", ["a", "dog"]])
    with pytest.raises(ValueError, match=r"text 2: ' ' has no words; expected at least one"):
        tagger.tag(["the cat", " "])
    with pytest.raises(ValueError, match="sentence 1: empty"):
        tagger.tag([[]])


def test_repr_is_one_short_line(tagger):
    assert repr(tagger) == "LoadedTagger(1x8 bidirectional lstm, 3 tags, 9 words, step 4, best val_acc 0.3333)"


def test_rnnkit_load_can_expect_a_task():
    with pytest.raises(rnnkit.checkpoint.CheckpointError, match="expected a language_model"):
        rnnkit.load(V0 / "tag", expect="lm")
