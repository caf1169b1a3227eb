"""Padded batches of variable-length sequences, with bucketing by length.

    batcher = BucketBatcher(lengths, batch_size=32, seed=1234)
    for index in range(len(batcher)):
        rows = batcher.batch(epoch, index)            # example indices of batch ``index`` of ``epoch``
        ids, lengths = pad_sequences([seqs[r] for r in rows])   # (B, T) long, (B,) long

Bucketing (as torchtext's BucketIterator and Keras' bucket_by_sequence_length do it): each
epoch, shuffle the examples, cut the shuffled order into pools of ``pool`` batches, sort each
pool by length, cut it into batches, and shuffle the batches. Batches then hold similar lengths
(little padding, so little wasted compute), yet their composition changes every epoch. Nothing
depends on it for correctness: the models read each sequence to its own length, so results do not
depend on which sequences share a batch.

The order of epoch ``e`` is a pure function of (seed, e): a resumed run sees exactly the batches
an uninterrupted one would have.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from ..errors import DataError


class BucketBatcher:
    """Args:
    lengths: (N,) the length of every example.
    batch_size: B, examples per batch (the last batch of an epoch may be smaller).
    seed: the shuffling seed.
    shuffle: False keeps the data order (evaluation); bucketing then only sorts within pools
        when ``bucket`` is True, and the batch order stays sorted within the pools.
    bucket: group similar lengths.
    pool: batches per sorting pool (larger: less padding, less randomness).
    """

    def __init__(
        self,
        lengths: Sequence[int] | np.ndarray,
        batch_size: int,
        seed: int = 0,
        shuffle: bool = True,
        bucket: bool = True,
        pool: int = 50,
    ):
        self.lengths = np.asarray(lengths, dtype=np.int64)  # (N,)
        if self.lengths.ndim != 1 or len(self.lengths) == 0:
            raise DataError(f"batches: expected at least one example, got {len(self.lengths)}")
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise DataError(f"batches: expected batch_size to be a positive integer, got {batch_size!r}")
        self.batch_size, self.seed, self.shuffle, self.bucket, self.pool = batch_size, seed, shuffle, bucket, pool
        self._cached: tuple[int, list[np.ndarray]] | None = None

    def __len__(self) -> int:
        return -(-len(self.lengths) // self.batch_size)

    def epoch(self, epoch: int) -> list[np.ndarray]:
        """Every batch of ``epoch``: a list of example-index arrays that together cover each example once."""
        if self._cached is not None and self._cached[0] == epoch:
            return self._cached[1]
        N, B = len(self.lengths), self.batch_size
        rng = np.random.default_rng([self.seed, epoch])
        order = rng.permutation(N) if self.shuffle else np.arange(N)
        if self.bucket:
            span = B * self.pool
            pools = [order[s : s + span] for s in range(0, N, span)]
            order = np.concatenate([p[np.argsort(self.lengths[p], kind="stable")] for p in pools])
        batches = [order[s : s + B] for s in range(0, N, B)]
        if self.shuffle:
            batches = [batches[i] for i in rng.permutation(len(batches))]
        self._cached = (epoch, batches)
        return batches

    def batch(self, epoch: int, index: int) -> np.ndarray:
        return self.epoch(epoch)[index]


def pad_sequences(
    seqs: Sequence[Sequence[int]], pad: int = 0, min_length: int = 1
) -> tuple[torch.Tensor, torch.Tensor]:
    """Right-pad integer sequences: (B, T) long ids (T = the longest), (B,) long lengths.

    Every sequence must hold at least ``min_length`` items (a recurrent layer reads at least one step).
    """
    lengths = torch.tensor([len(s) for s in seqs], dtype=torch.long)  # (B,)
    if len(seqs) == 0:
        raise DataError("batches: expected at least one sequence, got none")
    if int(lengths.min()) < min_length:
        raise DataError(f"batches: expected sequences of at least {min_length} token(s), got an empty one")
    T = int(lengths.max())
    out = torch.full((len(seqs), T), pad, dtype=torch.long)  # (B, T)
    for row, s in enumerate(seqs):
        out[row, : len(s)] = torch.as_tensor(s, dtype=torch.long)
    return out, lengths


def pad_chars(words: Sequence[Sequence[Sequence[int]]], pad: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """The characters of every word of every sentence: (B, T, W) long ids and (B, T) long word
    lengths (0 for the padding positions past a sentence's end). W = the longest word."""
    B = len(words)
    T = max(len(s) for s in words)
    W = max((len(w) for s in words for w in s), default=1)
    out = torch.full((B, T, W), pad, dtype=torch.long)  # (B, T, W)
    lengths = torch.zeros((B, T), dtype=torch.long)  # (B, T)
    for b, sentence in enumerate(words):
        for t, word in enumerate(sentence):
            out[b, t, : len(word)] = torch.as_tensor(word, dtype=torch.long)
            lengths[b, t] = len(word)
    return out, lengths
