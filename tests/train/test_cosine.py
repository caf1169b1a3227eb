"""The cosine budget schedule and adamw (issue 14): rnnkit.train.optim.BudgetCosine's learning rates
follow its formula in a real run, end at lr x min_lr_factor, resume exactly and take a new --lr on
resume; adamw decays the matrices only; Adam and AdamW use torch's fused kernel on the CPU."""

import math

import pytest
import torch

from rnnkit.checkpoint import load_checkpoint
from rnnkit.train import TrainConfig, TrainingInterrupted
from tests.train._compare import assert_same_checkpoint
from tests.train._toy import no_plots, records, toy_trainer  # noqa: F401 (no_plots: a fixture)
from tests.train.test_interrupt import ctrl_c_at, sigint_raises  # noqa: F401 (sigint_raises: a fixture)
from tests.train.test_trainer import lm_trainer

LR, STEPS = 0.01, 10


def factor(n: int, warmup: int, m: float, p: float) -> float:
    """The documented schedule: update n (1-based), share p of the budget spent."""
    warm = min(1.0, n / warmup) if warmup else 1.0
    return warm * (m + (1 - m) * (1 + math.cos(math.pi * p)) / 2)


def lrs(run) -> dict[int, float]:
    return {r["step"]: r["lr"] for r in records(run, "train")}


@pytest.mark.parametrize("warmup", [0, 4, 15])
@pytest.mark.parametrize("m", [0.0, 0.1, 0.5])
def test_the_learning_rates_follow_the_formula(tmp_path, warmup, m):
    trainer = toy_trainer(tmp_path, max_steps=STEPS, lr_schedule="cosine", warmup=warmup, min_lr_factor=m)
    assert trainer.optimizer.param_groups[0]["lr"] == pytest.approx(LR * factor(1, warmup, m, 0.0), rel=1e-12)
    trainer.fit()
    logged = lrs(tmp_path)
    assert sorted(logged) == list(range(1, STEPS + 1))
    for step, lr in logged.items():  # the lr after step s: update s + 1's, with s / max_steps spent
        assert lr == pytest.approx(LR * factor(step + 1, warmup, m, step / STEPS), rel=1e-12, abs=1e-15), step
    if warmup <= STEPS:
        assert logged[STEPS] == pytest.approx(LR * m, rel=1e-12, abs=1e-15)  # the budget's end
    assert load_checkpoint(tmp_path / "latest.safetensors").optimizer_state["param_groups"][0]["lr"] == logged[STEPS]


def test_every_group_follows_the_schedule(tmp_path):
    """adamw's two groups (matrices, the rest) decay alike."""
    trainer = toy_trainer(tmp_path, max_steps=6, lr_schedule="cosine", optimizer="adamw", weight_decay=0.1)
    trainer.fit()
    first, second = (g["lr"] for g in trainer.optimizer.param_groups)
    assert first == second == pytest.approx(LR * 0.1, rel=1e-12)


def test_an_epoch_budget_decays_by_epochs(tmp_path):
    """max_epochs 2 of 5 batches: the same ten steps as max_steps 10."""
    toy_trainer(tmp_path / "steps", max_steps=10, lr_schedule="cosine", warmup=2).fit()
    toy_trainer(tmp_path / "epochs", max_epochs=2.0, lr_schedule="cosine", warmup=2).fit()
    by_steps, by_epochs = lrs(tmp_path / "steps"), lrs(tmp_path / "epochs")
    assert by_steps.keys() == by_epochs.keys()
    assert all(by_epochs[s] == pytest.approx(by_steps[s], rel=1e-12, abs=1e-15) for s in by_steps)


def test_cosine_without_a_budget_is_refused():
    with pytest.raises(ValueError) as caught:
        TrainConfig(lr_schedule="cosine").validate()
    assert str(caught.value) == (
        "train: expected a budget (max_steps, max_epochs or max_minutes) for lr_schedule 'cosine' "
        "(it decays to the budget's end), got none"
    )
    for budget in ({"max_steps": 1}, {"max_epochs": 0.5}, {"max_minutes": 0.1}):
        TrainConfig(lr_schedule="cosine", **budget).validate()


@pytest.mark.parametrize(
    "name, value, expected",
    [
        ("min_lr_factor", 1.0, "train: expected min_lr_factor in [0, 1), got 1.0"),
        ("min_lr_factor", -0.1, "train: expected min_lr_factor in [0, 1), got -0.1"),
        ("beta2", 1.0, "train: expected beta2 in [0, 1), got 1.0"),
        ("beta2", float("nan"), "train: expected beta2 in [0, 1), got nan"),
        ("warmup", -1, "train: expected warmup to be an integer >= 0, got -1"),
        ("warmup", 2.5, "train: expected warmup to be an integer >= 0, got 2.5"),
    ],
)
def test_bad_settings_are_refused(name, value, expected):
    with pytest.raises(ValueError) as caught:
        TrainConfig(max_steps=5, **{name: value}).validate()
    assert str(caught.value) == expected


COSINE = {"optimizer": "adamw", "lr": 0.01, "weight_decay": 0.1, "lr_schedule": "cosine", "warmup": 3}
SETTINGS = {"max_steps": 12, "eval_every": 4, "log_every": 3, "dropout": 0.3, **COSINE}


def interrupted(run, at: int, **settings):
    trainer = lm_trainer(run, **{**SETTINGS, **settings})
    ctrl_c_at(trainer, {at})
    with pytest.raises(TrainingInterrupted):
        trainer.fit()


def test_an_interrupted_cosine_run_resumes_exactly(tmp_path):
    lm_trainer(tmp_path / "full", **SETTINGS).fit()
    interrupted(tmp_path / "part", 7)
    resumed = lm_trainer(tmp_path / "part", **SETTINGS)
    resumed.resume()
    assert resumed.step == 7
    resumed.fit()
    for name in ("latest.safetensors", "best.safetensors"):
        assert assert_same_checkpoint(tmp_path / "full" / name, tmp_path / "part" / name) > 10
    assert lrs(tmp_path / "part") == lrs(tmp_path / "full")


def test_a_new_lr_on_resume_replaces_the_current_value_and_the_schedule_continues(tmp_path):
    settings = {**SETTINGS, "log_every": 1}
    lm_trainer(tmp_path / "full", **settings).fit()
    interrupted(tmp_path / "part", 8, log_every=1)
    resumed = lm_trainer(tmp_path / "part", **{**settings, "lr": 0.2})
    resumed.resume(changed={"lr"})
    assert [g["lr"] for g in resumed.optimizer.param_groups] == [0.2, 0.2]  # update 9's
    resumed.fit()
    full, part = lrs(tmp_path / "full"), lrs(tmp_path / "part")
    assert part[8] == full[8] != 0.2
    for step in range(9, 13):  # the schedule's factors, continued from the new value
        assert part[step] == pytest.approx(0.2 * full[step] / full[8], rel=1e-12), step


def test_warmup_and_min_lr_factor_on_resume_continue_from_the_current_value(tmp_path):
    toy_trainer(tmp_path, max_steps=4, lr_schedule="cosine", warmup=2).fit()
    at_4 = lrs(tmp_path)[4]
    resumed = toy_trainer(tmp_path, max_steps=8, lr_schedule="cosine", warmup=2, min_lr_factor=0.5)
    resumed.resume(changed={"min_lr_factor"})
    assert resumed.optimizer.param_groups[0]["lr"] == at_4  # unchanged now, rebased for what follows
    assert resumed.scheduler.min_factor == 0.5
    resumed.fit()
    base = at_4 / factor(5, 2, 0.5, 4 / 4)  # the lr whose schedule under the new settings is at_4 now
    for step in range(5, 9):  # a larger budget: the share spent drops back to step / 8
        assert lrs(tmp_path)[step] == pytest.approx(base * factor(step + 1, 2, 0.5, step / 8), rel=1e-12), step


def test_adamw_decays_the_matrices_only(tmp_path):
    trainer = toy_trainer(tmp_path, max_steps=4, optimizer="adamw", weight_decay=0.1, beta2=0.98)
    matrices, rest = trainer.optimizer.param_groups
    assert [p.dim() for p in matrices["params"]] == [2] and matrices["weight_decay"] == 0.1
    assert [p.dim() for p in rest["params"]] == [1] and rest["weight_decay"] == 0.0
    assert matrices["betas"] == rest["betas"] == (0.9, 0.98)
    assert isinstance(trainer.optimizer, torch.optim.AdamW)
    trainer.fit()
    resumed = toy_trainer(tmp_path, max_steps=6, optimizer="adamw", weight_decay=0.5, beta2=0.98)
    resumed.resume(changed={"weight_decay"})
    assert [g["weight_decay"] for g in resumed.optimizer.param_groups] == [0.5, 0.0]
    resumed.fit()
    stored = load_checkpoint(tmp_path / "latest.safetensors").optimizer_state["param_groups"]
    assert [g["weight_decay"] for g in stored] == [0.5, 0.0]


def test_adam_and_adamw_are_fused_on_the_cpu(tmp_path):
    for optimizer in ("adam", "adamw"):
        trainer = toy_trainer(tmp_path / optimizer, max_steps=2, optimizer=optimizer)
        assert trainer.optimizer.defaults["fused"] is True, optimizer
        trainer.fit()  # and steps
        assert trainer.step == 2
