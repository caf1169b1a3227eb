"""Sequence classification (and regression) as the trainer sees it: shuffled, bucketed padded batches.

Every epoch visits each training example once, in batches of similar lengths
(``rnnkit.data.BucketBatcher``); the order is a function of (seed, epoch), so a resumed run
continues exactly. There is no state carried between batches: each sequence starts from zeros.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch
from torch import Tensor

from rnnkit.data import BucketBatcher, pad_sequences
from rnnkit.models import SequenceBatch, evaluating


class ClassificationTask:
    """Args:
    train: (sequences of token ids, targets: class ids or numbers) of the training examples.
    val: the same for validation, or None.
    batch_size, seed, bucket: see BucketBatcher.
    device: where batches go.
    class_weights: (C,) weight of each class in the training loss (None: all 1).
    regress: targets are numbers (mean squared error) instead of class ids.
    """

    unit = "ex"  # a batch's size counts examples (the trainer's throughput: examples per second)

    def __init__(
        self,
        train: tuple[Sequence[Sequence[int]], Sequence],
        val: tuple[Sequence[Sequence[int]], Sequence] | None,
        batch_size: int,
        device: torch.device,
        seed: int = 0,
        bucket: bool = True,
        class_weights: Tensor | None = None,
        regress: bool = False,
        num_classes: int = 2,
    ):
        self.seqs, self.targets = list(train[0]), np.asarray(train[1])
        self.val = val
        self.batch_size, self.device, self.regress = batch_size, device, regress
        self.batches = BucketBatcher([len(s) for s in self.seqs], batch_size, seed=seed, bucket=bucket)
        self.class_weights = None if class_weights is None else class_weights.to(device)
        # A training loss above explode_factor x this is divergence, not noise: chance level.
        self.loss_floor = float(np.var(self.targets.astype(float))) if regress else math.log(num_classes)

    @property
    def batches_per_epoch(self) -> int:
        return len(self.batches)

    def train_loss(self, model, index: int, epoch: int = 0) -> tuple[Tensor, int]:
        rows = self.batches.batch(epoch, index)
        x, lengths = pad_sequences([self.seqs[r] for r in rows])  # (B, T), (B,)
        targets = self.target_tensor(self.targets[rows])
        x, lengths = x.to(self.device, non_blocking=True), lengths.to(self.device)
        return model(SequenceBatch(x, targets, lengths, self.class_weights)).loss, len(rows)

    def target_tensor(self, targets: np.ndarray) -> Tensor:
        """(N,) class ids (int64), or numbers (float32) for regression, on the task's device."""
        return torch.as_tensor(targets, dtype=torch.float32 if self.regress else torch.long, device=self.device)

    @torch.no_grad()
    def evaluate(self, model) -> dict[str, float]:
        if self.val is None or len(self.val[0]) == 0:
            return {}
        out = predict_outputs(model, self.val[0], self.batch_size, self.device)
        targets = np.asarray(self.val[1])
        result = {"val_loss": float(model.loss(out, self.target_tensor(targets)))}
        if self.regress:
            result["val_rmse"] = math.sqrt(result["val_loss"])
        else:
            result["val_acc"] = float((out.argmax(-1).cpu().numpy() == targets).mean())
        return result

    def describe(self, val: dict) -> str:
        if "val_acc" in val:
            return f"val loss {val['val_loss']:.4f}, accuracy {100 * val['val_acc']:.2f}%"
        return f"val mean squared error {val['val_loss']:.4f} (rmse {val['val_rmse']:.4f})"

    def state_tensors(self) -> dict[str, Tensor]:
        return {}

    def load_state_tensors(self, tensors: dict[str, Tensor]) -> None:
        pass


@torch.no_grad()
def predict_outputs(model, seqs: Sequence[Sequence[int]], batch_size: int, device) -> Tensor:
    """The model's outputs for every sequence, in the given order: logits (N, C) or values (N,).

    Batches group similar lengths (less padding); the result does not depend on the grouping."""
    with evaluating(model):
        batches = BucketBatcher([len(s) for s in seqs], batch_size, shuffle=False, bucket=True)
        parts, rows_seen = [], []
        for rows in batches.epoch(0):
            x, lengths = pad_sequences([seqs[r] for r in rows])  # (B, T), (B,)
            out, _, _ = model(SequenceBatch(x.to(device), lengths=lengths.to(device)))
            parts.append(out.float())
            rows_seen.append(torch.as_tensor(rows))
    out = torch.cat(parts)  # (N, C) or (N,), in batch order
    order = torch.cat(rows_seen).to(out.device)
    result = torch.empty_like(out)
    result[order] = out
    return result


def balanced_weights(targets: Sequence[int], num_classes: int) -> Tensor:
    """N / (C * count_c) per class: each class contributes equally to the loss (sklearn's "balanced")."""
    counts = np.bincount(np.asarray(targets, dtype=np.int64), minlength=num_classes).astype(np.float64)
    weights = len(targets) / (num_classes * np.maximum(counts, 1.0))
    return torch.tensor(weights, dtype=torch.float32)
