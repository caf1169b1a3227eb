import numpy as np
import pytest
import torch

from rnnkit.data.batching.padded import BucketBatcher, pad_chars, pad_sequences
from rnnkit.data.errors import DataError


def test_every_example_once_per_epoch_and_order_changes():
    lengths = np.random.default_rng(0).integers(1, 50, size=1000)
    b = BucketBatcher(lengths, 32, seed=7)
    assert len(b) == 32
    for epoch in (0, 1):
        rows = np.concatenate(b.epoch(epoch))
        assert sorted(rows.tolist()) == list(range(1000))
    assert not np.array_equal(np.concatenate(b.epoch(0)), np.concatenate(b.epoch(1)))


def test_epoch_order_is_a_function_of_seed_and_epoch():
    lengths = np.arange(1, 301) % 17 + 1
    a, b = BucketBatcher(lengths, 16, seed=3), BucketBatcher(lengths, 16, seed=3)
    b.epoch(5)  # a different history must not matter
    for i in range(len(a)):
        assert np.array_equal(a.batch(2, i), b.batch(2, i))


def test_bucketing_reduces_padding():
    lengths = np.random.default_rng(1).integers(1, 100, size=2000)

    def padding(batcher):
        return sum(int(lengths[r].max()) * len(r) - int(lengths[r].sum()) for r in batcher.epoch(0))

    assert padding(BucketBatcher(lengths, 32, bucket=True)) < 0.2 * padding(BucketBatcher(lengths, 32, bucket=False))


def test_pad_sequences_and_chars():
    ids, lengths = pad_sequences([[5, 6, 7], [8]], pad=0)
    assert ids.tolist() == [[5, 6, 7], [8, 0, 0]] and lengths.tolist() == [3, 1]
    targets, _ = pad_sequences([[1, 2], [3]], pad=-100)
    assert targets.tolist() == [[1, 2], [3, -100]]
    chars, char_lengths = pad_chars([[[2, 3], [4]], [[5, 6, 7]]])
    assert chars.shape == (2, 2, 3) and chars.dtype == torch.long
    assert char_lengths.tolist() == [[2, 1], [3, 0]]
    assert chars[0, 0].tolist() == [2, 3, 0] and chars[1, 1].tolist() == [0, 0, 0]


def test_bad_batches():
    with pytest.raises(DataError, match="expected sequences of at least 1 token"):
        pad_sequences([[1], []])
    with pytest.raises(DataError, match="expected batch_size to be a positive integer, got 0"):
        BucketBatcher([1, 2], 0)
    with pytest.raises(DataError, match="expected at least one example, got 0"):
        BucketBatcher([], 4)
