"""The trainer's guards (NaN, infinite gradients, explosion), its best checkpoint, budgets and the
monitored metric, on a toy task."""

import math
import re
import time
from pathlib import Path

import pytest
import torch

from rnnkit.checkpoint import read_meta
from rnnkit.train import (
    TrainConfig,
    TrainingStopped,
)
from tests.train._toy import ToyTask, no_plots, snapshot, toy_trainer  # noqa: F401 (no_plots: a fixture)


@pytest.mark.parametrize("bad", [math.nan, math.inf])
def test_nan_loss_stops_and_keeps_the_last_good_checkpoint(tmp_path, bad):
    trainer = toy_trainer(tmp_path, max_steps=20, eval_every=2)
    latest, best = trainer.latest_path, trainer.best_path
    seen = {}

    def poison(loss):
        seen.update(snapshot(latest, best, latest.with_suffix(".json")))  # what step 4's eval left
        return loss * bad

    trainer.task.override = {5: poison}
    with pytest.raises(TrainingStopped) as info:
        trainer.fit()
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(f"training stopped: loss became {bad} at step 5;")
    assert f"the last good checkpoint is kept at {latest}" in message
    assert seen and snapshot(latest, best, latest.with_suffix(".json")) == seen  # byte-identical, untouched
    assert read_meta(latest)["step"] == 4
    assert trainer.step == 4  # the poisoned step was never taken


def test_nan_before_any_checkpoint_says_so(tmp_path):
    trainer = toy_trainer(tmp_path, max_steps=20, eval_every=10)
    trainer.task.override = {3: lambda loss: loss * math.nan}
    with pytest.raises(TrainingStopped, match=r"loss became nan at step 3; no checkpoint was written"):
        trainer.fit()
    assert not trainer.latest_path.exists() and not trainer.best_path.exists()


class InfiniteGradient(torch.autograd.Function):
    """Identity forward; an infinite gradient backward (a finite loss whose gradient overflows)."""

    @staticmethod
    def forward(ctx, x):
        return x.clone()

    @staticmethod
    def backward(ctx, grad):
        return grad * math.inf


def test_infinite_gradient_stops_before_the_optimizer_step(tmp_path):
    trainer = toy_trainer(tmp_path, max_steps=20, eval_every=2)
    before = None

    def spy(loss):
        nonlocal before
        before = [p.detach().clone() for p in trainer.model.parameters()]
        return InfiniteGradient.apply(loss)

    trainer.task.override = {3: spy}
    with pytest.raises(TrainingStopped, match=r"gradient norm became (inf|nan) at step 3;"):
        trainer.fit()
    assert all(torch.equal(a, b) for a, b in zip(before, trainer.model.parameters()))
    assert read_meta(trainer.latest_path)["step"] == 2


def test_nan_validation_loss_stops_without_saving(tmp_path):
    values = iter([1.0, math.nan])
    trainer = toy_trainer(tmp_path, ToyTask(val=lambda: next(values)), max_steps=20, eval_every=2)
    with pytest.raises(TrainingStopped, match=r"validation loss became nan at step 4"):
        trainer.fit()
    assert read_meta(trainer.latest_path)["step"] == 2
    assert read_meta(trainer.best_path)["step"] == 2


def test_best_is_not_overwritten_by_a_worse_evaluation(tmp_path):
    values = iter([2.0, 1.0, 3.0, 1.5])
    trainer = toy_trainer(tmp_path, ToyTask(val=lambda: next(values)), max_steps=8, eval_every=2)
    trainer.fit()
    assert read_meta(trainer.best_path)["step"] == 4
    assert read_meta(trainer.best_path)["best_score"] == 1.0
    assert read_meta(trainer.latest_path)["step"] == 8
    assert trainer.best_val == 1.0


def test_without_validation_best_is_the_latest(tmp_path):
    trainer = toy_trainer(tmp_path, ToyTask(val=None), max_steps=4, eval_every=2)
    trainer.fit()
    assert read_meta(trainer.best_path)["step"] == read_meta(trainer.latest_path)["step"] == 4


def test_explode_guard(tmp_path):
    trainer = toy_trainer(tmp_path, max_steps=100, eval_every=10, explode_factor=4.0)
    trainer.task.override = {60: lambda loss: loss * 0 + 1e3}
    with pytest.raises(TrainingStopped) as info:
        trainer.fit()
    message = str(info.value)
    assert re.search(r"loss exploded to 1000\.000 at step 60 \(over 4x its best running mean \d", message)
    assert f"the last good checkpoint is kept at {trainer.latest_path}" in message
    assert read_meta(trainer.latest_path)["step"] == 50


def test_explode_guard_waits_for_a_running_mean(tmp_path):
    """A loss spike in the first 50 steps is not measured against the running mean (there is none
    yet), only against the run's start level: 3x the first loss is noise (issue 12: a spike to
    1e3 there is divergence, test_divergence.py)."""
    trainer = toy_trainer(tmp_path, max_steps=20, eval_every=10)
    first = {}

    def spike(loss):
        return loss * 0 + 3 * first["loss"]

    def remember(loss):
        first["loss"] = float(loss.detach())
        return loss

    trainer.task.override = {1: remember, 10: spike}
    assert trainer.fit()["step"] == 20


# ----- budgets ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "budget, step, reason",
    [
        ({"max_steps": 7}, 7, "reached max_steps=7"),
        ({"max_epochs": 2.0}, 10, "reached max_epochs=2"),
        ({"max_epochs": 1.4}, 7, "reached max_epochs=1.4"),
        ({"max_epochs": 3.0, "max_steps": 4}, 4, "reached max_steps=4"),  # the first budget reached wins
    ],
)
def test_step_and_epoch_budgets(tmp_path, budget, step, reason):
    summary = toy_trainer(tmp_path, ToyTask(per_epoch=5), **budget).fit()
    assert (summary["step"], summary["stopped"]) == (step, reason)


def test_minutes_budget(tmp_path):
    started = time.perf_counter()
    summary = toy_trainer(tmp_path, ToyTask(sleep=0.01), max_minutes=0.3 / 60, eval_every=1000).fit()
    assert summary["stopped"] == "reached max_minutes=0.005"
    assert 5 <= summary["step"] <= 40
    assert time.perf_counter() - started < 10


# ----- the monitored metric -----------------------------------------------------------------------
class ScriptedEval(ToyTask):
    """Evaluations return the scripted (val_loss, val_acc) pairs in turn."""

    def __init__(self, script):
        super().__init__(per_epoch=100)
        self.script, self.evals = list(script), 0

    def evaluate(self, model):
        loss, acc = self.script[min(self.evals, len(self.script) - 1)]
        self.evals += 1
        return {"val_loss": loss, "val_acc": acc}


def best_step(run_dir) -> int:
    return read_meta(Path(run_dir) / "best.safetensors")["step"]


def test_monitor_accuracy_picks_the_most_accurate_and_breaks_ties_by_loss(tmp_path):
    script = [(0.9, 0.50), (0.5, 0.70), (0.4, 0.65), (0.45, 0.70), (0.3, 0.70), (0.2, 0.60)]
    trainer = toy_trainer(tmp_path / "acc", ScriptedEval(script), monitor="val_acc", max_steps=12)
    trainer.fit()
    # evaluations at steps 2, 4, ..., 12: 0.70 first at step 4, equalled with a lower loss at step 10
    assert best_step(tmp_path / "acc") == 10
    assert trainer.best_val == 0.70 and trainer.best_loss == 0.3
    by_loss = toy_trainer(tmp_path / "loss", ScriptedEval(script), max_steps=12)
    by_loss.fit()
    assert best_step(tmp_path / "loss") == 12 and by_loss.best_val == 0.2


def test_monitor_must_be_a_metric_of_the_task(tmp_path):
    with pytest.raises(ValueError, match="expected monitor to name a validation metric such as 'val_loss', got 'acc'"):
        TrainConfig(monitor="acc").validate()
    trainer = toy_trainer(tmp_path, ToyTask(), monitor="val_acc", max_steps=2)
    with pytest.raises(ValueError, match=re.escape("expected monitor to be one of the task's metrics ['val_loss']")):
        trainer.fit()
