"""Sequence tagging as the trainer sees it: shuffled, bucketed padded batches of sentences.

A sentence is its word ids, the character ids of each word (for models with character
features) and its tag ids. Padding positions get the target -100, which the loss ignores, so
the mean is over real tokens only. Word dropout (optional; Kiperwasser & Goldberg 2016) turns a
training token whose word occurs n times in the training data into ``<unk>`` with probability
alpha / (alpha + n): rare words often, frequent words almost never, so the ``<unk>`` embedding is
trained in the contexts where unseen words appear. The draws come from (seed, epoch, batch):
deterministic, so a resumed run sees the same masks.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from rnnkit.data import UNK_ID, BucketBatcher, pad_chars, pad_sequences
from rnnkit.models import IGNORE, TaggedBatch, evaluating


@dataclass
class EncodedSentences:
    words: list[list[int]]  # per sentence, word ids
    chars: list[list[list[int]]] | None  # per sentence, per word, character ids (None: no char features)
    tags: list[list[int]] | None  # per sentence, tag ids (None: untagged input)

    def __len__(self) -> int:
        return len(self.words)


def make_batch(data: EncodedSentences, rows, device) -> TaggedBatch:
    """Padded tensors for sentences ``rows``: words (B, T), lengths (B,), and when present chars
    (B, T, W), char_lengths (B, T), targets (B, T) with -100 past each length."""
    words, lengths = pad_sequences([data.words[r] for r in rows])  # (B, T), (B,)
    batch = TaggedBatch(words.to(device), lengths=lengths.to(device))
    if data.chars is not None:
        chars, char_lengths = pad_chars([data.chars[r] for r in rows])  # (B, T, W), (B, T)
        batch.chars, batch.char_lengths = chars.to(device), char_lengths.to(device)
    if data.tags is not None:
        targets, _ = pad_sequences([data.tags[r] for r in rows], pad=IGNORE)  # (B, T)
        batch.targets = targets.to(device)
    return batch


class TaggingTask:
    """Args:
    train / val: EncodedSentences (val may be None).
    unk_probs: (V,) the probability of each word id turning into <unk> in training (word dropout;
        see ``word_dropout_probs``), or None for no word dropout.
    """

    unit = "word"  # a batch's size counts its words (the trainer's throughput: words per second)

    def __init__(
        self,
        train: EncodedSentences,
        val: EncodedSentences | None,
        batch_size: int,
        device: torch.device,
        num_tags: int,
        seed: int = 0,
        bucket: bool = True,
        unk_probs: np.ndarray | None = None,
    ):
        self.train, self.val, self.batch_size, self.device = train, val, batch_size, device
        self.batches = BucketBatcher([len(s) for s in train.words], batch_size, seed=seed, bucket=bucket)
        self.seed = seed
        self.unk_probs = None if unk_probs is None else torch.as_tensor(unk_probs, dtype=torch.float32)
        self.loss_floor = math.log(num_tags)

    @property
    def batches_per_epoch(self) -> int:
        return len(self.batches)

    def train_loss(self, model, index: int, epoch: int = 0) -> tuple[Tensor, int]:
        rows = self.batches.batch(epoch, index)
        batch = make_batch(self.train, rows, self.device)
        if self.unk_probs is not None:
            words = batch.inputs.cpu()  # (B, T)
            g = torch.Generator().manual_seed((self.seed * 1_000_003 + epoch) * 1_000_003 + index)
            drop = torch.rand(words.shape, generator=g) < self.unk_probs[words]  # (B, T); padding: p = 0
            batch.inputs = words.masked_fill(drop, UNK_ID).to(self.device)
        return model(batch).loss, int(batch.lengths.sum())

    @torch.no_grad()
    def evaluate(self, model) -> dict[str, float]:
        if self.val is None or len(self.val) == 0:
            return {}
        total, correct, count = 0.0, 0, 0
        with evaluating(model):
            for rows in BucketBatcher([len(s) for s in self.val.words], self.batch_size, shuffle=False).epoch(0):
                batch = make_batch(self.val, rows, self.device)
                logits, loss, _ = model(batch)
                real = batch.targets != IGNORE  # (B, T)
                n = int(real.sum())
                total += float(loss) * n
                correct += int((logits.argmax(-1) == batch.targets)[real].sum())
                count += n
        return {"val_loss": total / count, "val_acc": correct / count}

    def describe(self, val: dict) -> str:
        return f"val loss {val['val_loss']:.4f}, token accuracy {100 * val['val_acc']:.2f}%"

    def state_tensors(self) -> dict[str, Tensor]:
        return {}

    def load_state_tensors(self, tensors: dict[str, Tensor]) -> None:
        pass


@torch.no_grad()
def predict_tags(model, data: EncodedSentences, batch_size: int, device) -> list[list[int]]:
    """The most probable tag of every token, per sentence, in the given order."""
    with evaluating(model):
        result: list[list[int] | None] = [None] * len(data)
        for rows in BucketBatcher([len(s) for s in data.words], batch_size, shuffle=False).epoch(0):
            batch = make_batch(EncodedSentences(data.words, data.chars, None), rows, device)
            logits, _, _ = model(batch)
            best = logits.argmax(-1).cpu()  # (B, T)
            for i, r in enumerate(rows):
                result[r] = best[i, : len(data.words[r])].tolist()
    return result


def word_dropout_probs(train_words: Sequence[Sequence[int]], vocab_size: int, alpha: float) -> np.ndarray:
    """(V,) alpha / (alpha + n_w) for every word id w seen n_w > 0 times in training; 0 for the others
    (padding, <unk>, words cut from the vocabulary). alpha = 0: no word dropout (all zeros)."""
    counts = np.bincount(np.concatenate([np.asarray(s, dtype=np.int64) for s in train_words]), minlength=vocab_size)
    probs = np.where(counts > 0, alpha / np.maximum(alpha + counts, 1e-12), 0.0)
    probs[:2] = 0.0  # <pad>, <unk>
    return probs.astype(np.float32)
