"""Two checkpoints equal in every tensor and every state, bit for bit (exact-resume tests)."""

import math
from pathlib import Path

import numpy as np
import torch

from rnnkit.checkpoint import load_checkpoint
from rnnkit.train import TRAINER_KEYS

PARTS = ("model_state", "optimizer_state", "scheduler_state", "rng_state", "extra_tensors")


def assert_same_tree(a, b, where: str) -> int:
    """Equal nested dicts / lists of tensors and plain values (NaN equals NaN); returns the tensors compared."""
    if isinstance(a, torch.Tensor):
        assert isinstance(b, torch.Tensor), where
        assert (a.dtype, a.shape) == (b.dtype, b.shape), where
        assert torch.equal(a, b) or (a.is_floating_point() and torch.equal(a.isnan(), b.isnan())), where
        return 1
    if isinstance(a, np.ndarray):
        assert isinstance(b, np.ndarray) and np.array_equal(a, b), where
        return 1
    if isinstance(a, dict):
        assert isinstance(b, dict) and a.keys() == b.keys(), (where, sorted(a), sorted(b))
        return sum(assert_same_tree(a[k], b[k], f"{where}.{k}") for k in a)
    if isinstance(a, (list, tuple)):
        assert isinstance(b, (list, tuple)) and len(a) == len(b), where
        return sum(assert_same_tree(x, y, f"{where}[{i}]") for i, (x, y) in enumerate(zip(a, b)))
    if isinstance(a, float) and math.isnan(a):
        assert isinstance(b, float) and math.isnan(b), where
        return 0
    assert a == b, (where, a, b)
    return 0


def assert_same_checkpoint(a: Path, b: Path) -> int:
    """Every tensor (model, optimiser, schedule, RNG, carried state) and the trainer's metadata;
    returns how many tensors were compared."""
    ca, cb = load_checkpoint(a), load_checkpoint(b)
    tensors = sum(assert_same_tree(getattr(ca, part), getattr(cb, part), f"{a.name}:{part}") for part in PARTS)
    trainer = ({k: m.get(k) for k in TRAINER_KEYS if k != "seconds"} for m in (ca.meta, cb.meta))  # the wall clock
    assert_same_tree(next(trainer), next(trainer), f"{a.name}:meta")
    return tensors
