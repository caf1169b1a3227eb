"""prepare_chars: the vocabulary comes from the training split only."""

import numpy as np

from rnnkit.tasks.lm.prepare import prepare_chars


def test_vocabulary_from_training_split_and_held_out_unknowns_dropped():
    text = "abcab" * 18 + "xyzab" * 2  # 100 chars; 'x', 'y', 'z' only in the last 10%
    corpus = prepare_chars(text, (0.9, 0.1, 0.0))
    assert corpus.vocab.symbols == ("a", "b", "c")
    assert corpus.dropped == {"train": 0, "val": 6, "test": 0}
    assert corpus.vocab.decode(corpus.splits["train"]) == text[:90]
    assert corpus.vocab.decode(corpus.splits["val"]) == "abab"
    assert corpus.splits["val"].dtype == np.uint8


def test_all_symbols_in_training_keeps_the_encoded_views():
    text = "hello world\n" * 10
    corpus = prepare_chars(text, (0.8, 0.1, 0.1))
    assert corpus.dropped == {"train": 0, "val": 0, "test": 0}
    joined = "".join(corpus.vocab.decode(corpus.splits[k]) for k in ("train", "val", "test"))
    assert joined == text
