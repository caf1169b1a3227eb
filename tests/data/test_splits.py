"""Splits: split_ids (a contiguous token stream) and split_indices / check_classes (labelled examples)."""

import re
from collections import Counter

import numpy as np
import pytest

from rnnkit.data.errors import DataError
from rnnkit.data.splits import check_classes, split_ids, split_indices


def raises(msg):
    """pytest.raises for a DataError whose message contains ``msg`` verbatim."""
    return pytest.raises(DataError, match=re.escape(msg))


# ----- split_ids --------------------------------------------------------------------------------
def test_default_split_is_contiguous_90_5_5():
    ids = np.arange(200, dtype=np.uint8)
    parts = split_ids(ids)
    assert list(parts) == ["train", "val", "test"]
    np.testing.assert_array_equal(parts["train"], np.arange(180))
    np.testing.assert_array_equal(parts["val"], np.arange(180, 190))
    np.testing.assert_array_equal(parts["test"], np.arange(190, 200))
    assert all(p.dtype == np.uint8 and np.shares_memory(p, ids) for p in parts.values())


def test_custom_fractions_and_rounding_gives_train_the_rest():
    parts = split_ids(np.arange(23), (0.5, 0.25, 0.25))  # round(5.75) = 6 each, train 11
    assert [len(p) for p in parts.values()] == [11, 6, 6]
    np.testing.assert_array_equal(np.concatenate(list(parts.values())), np.arange(23))


def test_zero_fraction_gives_an_empty_split():
    parts = split_ids(np.arange(10), (0.8, 0.2, 0.0))
    assert [len(p) for p in parts.values()] == [8, 2, 0]
    parts = split_ids(np.arange(3), (1.0, 0.0, 0.0))
    assert [len(p) for p in parts.values()] == [3, 0, 0]


def test_fractions_sum_within_tolerance_is_accepted():
    split_ids(np.arange(100), (0.9, 0.05, 0.0500000001))


@pytest.mark.parametrize(
    "fractions, msg",
    [
        ((0.9, 0.1), "data: expected three split fractions (train, val, test), got 2: (0.9, 0.1)"),
        ((1.1, -0.05, -0.05), "data: expected non-negative split fractions, got (1.1, -0.05, -0.05)"),
        ((0.9, 0.05, float("nan")), "data: expected non-negative split fractions, got (0.9, 0.05, nan)"),
        ((0.8, 0.1, 0.05), "data: expected split fractions summing to 1, got (0.8, 0.1, 0.05) (sum 0.95)"),
        ((0.0, 0.5, 0.5), "data: expected a positive train fraction, got (0.0, 0.5, 0.5)"),
        ("abc", "data: expected three split fractions (train, val, test), got 'abc'"),
    ],
)
def test_bad_fractions(fractions, msg):
    with raises(msg):
        split_ids(np.arange(100), fractions)


def test_too_short_to_split():
    msg = (
        "data: 20 tokens are too few to split by (0.9, 0.05, 0.05): val would get 1 tokens; expected at "
        "least 2 in every split with a non-zero fraction, use more text or other split fractions"
    )
    with raises(msg):
        split_ids(np.arange(20))
    with raises("data: 1 tokens are too few to split by (1.0, 0.0, 0.0): train"):
        split_ids(np.arange(1), (1.0, 0.0, 0.0))


def test_ids_must_be_a_1d_integer_array():
    with raises("data: expected ids as a 1-D numpy integer array, got list"):
        split_ids([1, 2, 3])
    with raises("got shape (2, 2) dtype int64"):
        split_ids(np.zeros((2, 2), dtype=np.int64))


# ----- labelled examples -------------------------------------------------------------------------
def test_check_classes():
    assert check_classes(["b", "a", "b"], "train.tsv") == ["a", "b"]
    with raises("data: train.tsv has a single class '1'; expected at least two classes") as e:
        check_classes(["1", "1"], "train.tsv")
    assert "\n" not in str(e.value)


def test_split_indices_is_deterministic_disjoint_and_complete():
    labels = ["a"] * 60 + ["b"] * 30 + ["c"] * 10
    for stratify in (True, False):
        parts = split_indices(labels, (0.8, 0.1, 0.1), seed=3, stratify=stratify)
        assert parts == split_indices(labels, (0.8, 0.1, 0.1), seed=3, stratify=stratify)
        assert parts != split_indices(labels, (0.8, 0.1, 0.1), seed=4, stratify=stratify)
        assert [len(p) for p in parts] == [80, 10, 10]
        assert sorted(i for p in parts for i in p) == list(range(100))
        assert all(p == sorted(p) for p in parts)


def test_stratified_split_keeps_the_label_proportions():
    labels = ["a"] * 60 + ["b"] * 30 + ["c"] * 10
    train, val, test = split_indices(labels, (0.8, 0.1, 0.1), seed=0)
    assert Counter(labels[i] for i in train) == {"a": 48, "b": 24, "c": 8}
    assert Counter(labels[i] for i in val) == Counter(labels[i] for i in test) == {"a": 6, "b": 3, "c": 1}


def test_stratified_split_gives_small_classes_one_example_per_part():
    labels = ["a"] * 50 + ["rare"] * 3
    parts = split_indices(labels, (0.8, 0.1, 0.1), seed=1)
    assert [sum(labels[i] == "rare" for i in p) for p in parts] == [1, 1, 1]
    two = split_indices(["a"] * 10 + ["b"] * 2, (0.9, 0.1), seed=1)
    assert [sum(i >= 10 for i in p) for p in two] == [1, 1]
    zero = split_indices(["a"] * 10 + ["b"] * 2, (0.9, 0.1, 0.0), seed=1)
    assert zero[2] == [] and len(zero[0]) + len(zero[1]) == 12


def test_split_indices_rejects_bad_fractions():
    with raises("data: expected split fractions summing to 1, got (0.5, 0.2) (sum 0.7)"):
        split_indices(["a", "b"], (0.5, 0.2), seed=0)
    with raises("data: expected split fractions in [0, 1), got (1.0, 0.0)"):
        split_indices(["a", "b"], (1.0, 0.0), seed=0)
    with raises("data: expected 2 or 3 split fractions, got 1: (1.0,)"):
        split_indices(["a", "b"], (1.0,), seed=0)
