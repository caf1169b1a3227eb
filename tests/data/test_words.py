"""Word tokens: the tokeniser, WordVocab (ids, <eos>/<unk>, size options, round trips, serialisation),
word corpora (contiguous split or explicit held-out files, .gz) and the new DataConfig fields."""

import gzip
import json
import os
import re
from pathlib import Path

import numpy as np
import pytest

from rnnkit.data import EOS, UNK, DataError, WordVocab, read_text, tokenize, vocab_from_dict
from rnnkit.tasks import DataConfig
from rnnkit.tasks.lm_prepare import prepare_corpus, prepare_words

PTB = Path(os.environ.get("RNNKIT_DATA", Path(__file__).resolve().parents[3] / "shared" / "data")) / "ptb"


def raises(msg):
    """pytest.raises for a DataError whose message contains ``msg`` verbatim."""
    return pytest.raises(DataError, match=re.escape(msg))


# ----- the tokeniser ----------------------------------------------------------------------------
def test_tokenize_splits_on_whitespace_with_one_eos_per_newline():
    assert tokenize(" the cat  sat \n on\tthe mat \n") == ["the", "cat", "sat", EOS, "on", "the", "mat", EOS]
    assert tokenize("a\r\nb\r\n") == ["a", EOS, "b", EOS]  # Windows line ends: "\r" is whitespace
    assert tokenize("a\n\nb\n") == ["a", EOS, EOS, "b", EOS]  # an empty line is a lone <eos>
    assert tokenize("") == [] and tokenize("  ") == []


def test_tokenize_final_eos_ends_an_unterminated_last_line():
    assert tokenize("a b") == ["a", "b"]  # a prime may stop mid-line
    assert tokenize("a b", final_eos=True) == ["a", "b", EOS]  # a corpus line always ends with <eos>
    assert tokenize("a b\n", final_eos=True) == ["a", "b", EOS]  # never two
    assert tokenize("", final_eos=True) == []


# ----- building ---------------------------------------------------------------------------------
def test_specials_first_then_words_by_frequency_then_by_word():
    v = WordVocab.from_text("b a c\nc b\nc\n")
    assert v.symbols == (EOS, UNK, "c", "b", "a")  # c x3, b x2, a x1
    assert (v.eos_id, v.unk_id, v.bos_id) == (0, 1, None)
    assert v.specials == (EOS, UNK) and v.words == ("c", "b", "a")
    # ties are broken by the word, so the order of appearance never matters
    assert WordVocab.from_text("z y x\n").words == WordVocab.from_text("x z y\n").words == ("x", "y", "z")


def test_literal_unk_in_the_text_is_the_unknown_token_not_a_word():
    # PTB writes its rare words as <unk>: 3 word types + <unk> in the text, + <eos> = 5, not 6
    v = WordVocab.from_text("the <unk> sat\nthe <unk>\n<unk> cat\n")
    assert len(v) == 5 and v.words == ("the", "cat", "sat")
    assert list(v.encode("the <unk> <eos>")) == [2, 1, 0]


def test_max_size_counts_the_specials_and_min_freq_drops_rare_words():
    text = "a a a a b b b c c d\n"
    assert WordVocab.from_text(text, max_size=4).symbols == (EOS, UNK, "a", "b")
    assert len(WordVocab.from_text(text, max_size=100)) == 6
    assert WordVocab.from_text(text, min_freq=2).words == ("a", "b", "c")
    assert WordVocab.from_text(text, max_size=4, min_freq=4).words == ("a",)
    assert list(WordVocab.from_text(text, max_size=4).encode("a c d")) == [2, 1, 1]


@pytest.mark.parametrize(
    "text, kwargs, msg",
    [
        ("", {}, "cannot build a word vocabulary from text without words"),
        (" \n\t\n", {}, "cannot build a word vocabulary from text without words"),
        ("<eos> <unk>\n", {}, "cannot build a word vocabulary from text without words"),
        ("a b\n", {"max_size": 2}, "expected a vocabulary size of 0 (no limit) or at least 3"),
        ("a b\n", {"max_size": -1}, "expected vocabulary size to be an integer >= 0, got -1"),
        ("a b\n", {"min_freq": 0}, "expected minimum frequency to be an integer >= 1, got 0"),
        ("a b\n", {"min_freq": 5}, "no word occurs at least 5 times (the most frequent occurs 1)"),
    ],
)
def test_bad_vocabularies(text, kwargs, msg):
    with raises(msg):
        WordVocab.from_text(text, **kwargs)


@pytest.mark.parametrize(
    "words, msg",
    [
        (["a", "a"], "expected distinct words, got 'a' twice"),
        (["a b"], "without whitespace, got 'a b'"),
        ([""], "without whitespace, got ''"),
        ([EOS], "the special '<eos>' cannot also be an ordinary word"),
        ([3], "without whitespace, got 3"),
    ],
)
def test_bad_word_lists(words, msg):
    with raises(msg):
        WordVocab(words)


def test_ids_use_the_smallest_dtype():
    assert WordVocab.from_text("a b c\n").encode("a b").dtype == np.uint8
    big = WordVocab(f"w{i}" for i in range(300))
    assert big.dtype == np.uint16 and big.encode("w299 w0").tolist() == [301, 2]


# ----- encode / decode --------------------------------------------------------------------------
def test_round_trip_with_eos_as_newline_and_unk():
    text = "the cat sat on the mat\nthe dog ran\n\nto the mat\n"
    v = WordVocab.from_text(text)
    ids = v.encode(text)
    assert v.decode(ids) == text  # single spaces, one "\n" per <eos>: exactly the text back
    assert v.decode(v.encode("  the   cat\r\nran ")) == "the cat\nran"  # whitespace is normalised
    unk = v.encode("the zebra sat\n")
    assert unk.tolist() == [v.id_of("the"), v.unk_id, v.id_of("sat"), v.eos_id]
    assert v.decode(unk) == "the <unk> sat\n"
    assert v.decode(unk, skip_specials=True) == "the sat\n"  # <unk> dropped; <eos> is line structure, kept
    assert v.decode([]) == ""


def test_pieces_concatenate_to_the_decoded_text():
    v = WordVocab.from_text("a b c\nd\n")
    ids = v.encode("a b\nc d\n\na").tolist()
    pieces, previous = [], None
    for i in ids:
        pieces.append(v.piece(i, previous))
        previous = i
    assert "".join(pieces) == v.decode(ids) == "a b\nc d\n\na"
    assert v.piece(v.id_of("b"), v.id_of("a")) == " b" and v.piece(v.id_of("b"), v.eos_id) == "b"


def test_unknown_words_unk_error_or_skip():
    v = WordVocab.from_text("a b c\n")
    assert v.encode("a x b y").tolist() == [2, 1, 3, 1]  # default: <unk>
    assert v.encode("a x b y", unknown="skip").tolist() == [2, 3]
    with raises("text: words not in the vocabulary: 'x', 'y' (2 distinct); expected only the model's words"):
        v.encode("a x b y x", unknown="error")
    with raises("expected unknown='unk', 'error' or 'skip', got 'keep'"):
        v.encode("a", unknown="keep")
    assert v.unknown_symbols("x a y x\n") == ["x", "y"]
    assert v.count_unknown(["x", "a", UNK, EOS]) == 1  # a literal <unk> is in the vocabulary
    many = " ".join(f"w{i}" for i in range(12))
    with pytest.raises(DataError, match=r"'w7', \.\.\. \(12 distinct\)"):
        v.encode(many, unknown="error")


def test_decode_rejects_bad_ids():
    v = WordVocab.from_text("a b\n")
    with raises("ids: id 4 is out of range; expected 0 <= id < 4"):
        v.decode([0, 4])
    with raises("expected a 1-D sequence of integer ids"):
        v.decode([[0]])


def test_lookup():
    v = WordVocab.from_text("a b\n")
    assert v.has("a") and v.has(EOS) and v.has(UNK) and not v.has("c")
    with raises("vocab: word 'c' is not in the vocabulary"):
        v.id_of("c")


# ----- serialisation ----------------------------------------------------------------------------
def test_to_dict_from_dict_and_dispatch_by_kind():
    v = WordVocab.from_text("the cat sat\nthe end\n", max_size=5)
    d = json.loads(json.dumps(v.to_dict()))  # JSON-safe (it goes into every checkpoint)
    assert d == {"kind": "word", "specials": [EOS, UNK], "words": ["the", "cat", "end"]}
    for restored in (WordVocab.from_dict(d), vocab_from_dict(d)):
        assert restored == v and isinstance(restored, WordVocab) and restored.symbols == v.symbols
    assert hash(WordVocab.from_dict(d)) == hash(v)
    with raises("vocab: expected kind 'word', got 'char'"):
        WordVocab.from_dict({**d, "kind": "char"})
    with raises("expected specials ['<eos>', '<unk>']"):
        WordVocab.from_dict({**d, "specials": ["<unk>", "<eos>"]})


# ----- word corpora -----------------------------------------------------------------------------
def test_contiguous_split_builds_the_vocabulary_from_training_words_only():
    text = "a b a b a b\n" * 8 + "c d\n"
    corpus = prepare_words(text, fractions=(0.8, 0.1, 0.1))
    assert sum(len(s) for s in corpus.splits.values()) == 8 * 7 + 3  # every token lands in one split
    assert corpus.vocab.words == ("a", "b")  # c and d only occur in the test part
    assert corpus.vocab.decode(corpus.splits["test"]).endswith("<unk> <unk>\n")
    assert corpus.unknown["test"] == 2 and corpus.unknown["train"] == 0
    assert corpus.unit == "words"


def test_explicit_held_out_texts_make_the_whole_text_training_text():
    corpus = prepare_words("a b c\n" * 3, held_out={"val": "a z\n", "test": "c"})
    assert len(corpus.splits["train"]) == 12
    assert corpus.splits["val"].tolist() == [2, 1, 0] and corpus.unknown["val"] == 1
    assert corpus.splits["test"].tolist() == [4, 0]  # the unterminated last line gets its <eos>
    no_test = prepare_words("a b c\n", held_out={"val": "a\n"})
    assert len(no_test.splits["test"]) == 0


def test_prepare_corpus_reads_gzip_and_held_out_files(tmp_path):
    (tmp_path / "train.txt.gz").write_bytes(gzip.compress(b" the cat sat \n the <unk> \n"))
    (tmp_path / "valid.txt").write_text(" the dog \n")
    (tmp_path / "test.txt").write_text(" a cat \n")
    cfg = DataConfig(tokens="word", valid=str(tmp_path / "valid.txt"), test=str(tmp_path / "test.txt")).validate()
    corpus = prepare_corpus(cfg, [str(tmp_path / "train.txt.gz")])
    assert corpus.vocab.symbols == (EOS, UNK, "the", "cat", "sat")
    v = corpus.vocab
    assert v.decode(corpus.splits["train"]) == "the cat sat\nthe <unk>\n"
    assert v.decode(corpus.splits["val"]) == "the <unk>\n" and v.decode(corpus.splits["test"]) == "<unk> cat\n"
    # character tokens with explicit held-out files: held-out characters the training text lacks are dropped
    chars = prepare_corpus(DataConfig(valid=str(tmp_path / "valid.txt")), [str(tmp_path / "train.txt.gz")])
    assert chars.vocab.kind == "char" and chars.dropped["val"] == 3  # 'd', 'o', 'g'
    assert len(chars.splits["test"]) == 0


def test_read_text_gzip_and_its_errors(tmp_path):
    (tmp_path / "a.txt.gz").write_bytes(gzip.compress("héllo\n".encode()))
    assert read_text(tmp_path / "a.txt.gz") == "héllo\n"
    (tmp_path / "bad.gz").write_bytes(b"not gzip at all")
    with raises("is not a valid gzip file"):
        read_text(tmp_path / "bad.gz")
    (tmp_path / "latin.gz").write_bytes(gzip.compress(b"ab\xe9"))
    with raises("is not valid utf-8 at decompressed byte offset 2 (byte 0xe9)"):
        read_text(tmp_path / "latin.gz")


@pytest.mark.parametrize(
    "override, msg",
    [
        ({"tokens": "bytes"}, "data: expected tokens 'char' or 'word', got 'bytes'"),
        ({"tokens": "word", "mode": "lines"}, "expected line mode with character tokens only"),
        ({"vocab_size": -1}, "expected vocabulary size to be an integer >= 0, got -1"),
        ({"vocab_size": 2}, "expected vocabulary size 0 (no limit) or >= 3"),
        ({"min_freq": 0}, "expected minimum frequency to be an integer >= 1, got 0"),
        ({"valid": 3}, "expected the valid file as a path string, got 3"),
    ],
)
def test_bad_word_config(override, msg):
    with raises(msg):
        DataConfig(**override).validate()


@pytest.mark.skipif(not (PTB / "ptb.train.txt.gz").is_file(), reason="needs shared/data/ptb")
def test_penn_treebank_has_the_canonical_vocabulary_and_token_counts():
    cfg = DataConfig(tokens="word", vocab_size=10000, valid=str(PTB / "ptb.valid.txt"), test=str(PTB / "ptb.test.txt"))
    corpus = prepare_corpus(cfg.validate(), [str(PTB / "ptb.train.txt.gz")])
    assert len(corpus.vocab) == 10000  # 9,999 types incl. <unk>, + <eos>
    assert {k: len(v) for k, v in corpus.splits.items()} == {"train": 929589, "val": 73760, "test": 82430}
    assert corpus.unknown == {"train": 0, "val": 0, "test": 0} and corpus.splits["train"].dtype == np.uint16
    unlimited = prepare_corpus(DataConfig(tokens="word", valid=cfg.valid), [str(PTB / "ptb.train.txt.gz")])
    assert unlimited.vocab == corpus.vocab  # PTB is already cut to 10k words
