"""Word corpora: a contiguous split or explicit held-out files (.gz), the vocabulary from the training words
only, the word fields of DataConfig, and the canonical Penn Treebank counts."""

import gzip
import os
import re
from pathlib import Path

import numpy as np
import pytest

from rnnkit.data import EOS, UNK, DataError
from rnnkit.tasks import DataConfig
from rnnkit.tasks.lm.prepare import prepare_corpus, prepare_words

PTB = Path(os.environ.get("RNNKIT_DATA", Path(__file__).resolve().parents[4] / "shared" / "data")) / "ptb"


def raises(msg):
    """pytest.raises for a DataError whose message contains ``msg`` verbatim."""
    return pytest.raises(DataError, match=re.escape(msg))


# ----- word corpora -----------------------------------------------------------------------------
def test_contiguous_split_builds_the_vocabulary_from_training_words_only():
    text = "a b a b a b\n" * 8 + "c d\n"
    corpus = prepare_words(text, fractions=(0.8, 0.1, 0.1))
    assert sum(len(s) for s in corpus.splits.values()) == 8 * 7 + 3  # every token lands in one split
    assert corpus.vocab.ordinary == ("a", "b")  # c and d only occur in the test part
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
