"""A toy task for the trainer tests: the trainer knows a task only through the Task protocol."""

import json
import time
from pathlib import Path

import pytest
import torch
from torch import nn

from rnnkit.train import (
    TrainConfig,
    Trainer,
)


class ToyTask:
    """Regress a fixed linear map; ``losses`` can override the loss at given (1-based) steps."""

    loss_floor = 0.0

    def __init__(self, per_epoch: int = 5, val: float | None = 1.0, override=None, sleep: float = 0.0):
        self.batches_per_epoch = per_epoch
        self.val, self.override, self.sleep = val, override or {}, sleep
        self.calls = 0
        self.x = torch.randn(16, 3, generator=torch.Generator().manual_seed(0))
        self.y = self.x @ torch.tensor([1.0, -2.0, 0.5])

    def train_loss(self, model, index, epoch=0):
        self.calls += 1
        if self.sleep:
            time.sleep(self.sleep)
        loss = ((model(self.x).squeeze(-1) - self.y) ** 2).mean()
        if self.calls in self.override:
            loss = self.override[self.calls](loss)
        return loss, 16

    def evaluate(self, model):
        if self.val is None:
            return {}
        return {"val_loss": self.val() if callable(self.val) else self.val}

    def describe(self, val):
        return f"val loss {val['val_loss']:.4f}"

    def state_tensors(self):
        return {}

    def load_state_tensors(self, tensors):
        pass


def toy_trainer(run_dir, task=None, **train) -> Trainer:
    torch.manual_seed(0)
    cfg = TrainConfig(**{"device": "cpu", "log_every": 1, "eval_every": 2, "lr": 0.01, **train})
    return Trainer(nn.Linear(3, 1), task or ToyTask(), cfg, run_dir, {"config": {"train": "toy"}}, progress=False)


def snapshot(*paths: Path) -> dict:
    return {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in paths}


def records(run_dir: Path, kind: str | None = None) -> list[dict]:
    lines = (run_dir / "metrics.jsonl").read_text().splitlines()
    out = [json.loads(line) for line in lines]
    return [r for r in out if kind is None or r["kind"] == kind]


@pytest.fixture(autouse=True)
def no_plots(request, monkeypatch):
    """Drawing curves.png costs ~0.1 s per evaluation; only the tests that ask for a ``real_plots``
    fixture draw (a test module imports this fixture to use it)."""
    if "real_plots" not in request.fixturenames:
        monkeypatch.setattr("rnnkit.train.trainer.plot_curves", lambda *args, **kwargs: None)
