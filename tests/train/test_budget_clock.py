"""The run's budgets and clock (rnnkit.train.budget, issue 14): the share of the budget spent, when
it is reached, the steps it allows; the clock's seconds are checkpointed and continued on resume,
so --max-minutes is the whole run's budget and a resume of a spent run trains nothing."""

import types

import pytest

from rnnkit.checkpoint import read_meta
from rnnkit.train import TrainConfig
from rnnkit.train import budget as budget_module
from rnnkit.train.budget import Budget
from tests.train._toy import ToyTask, no_plots, snapshot, toy_trainer  # noqa: F401 (no_plots: a fixture)


@pytest.fixture
def clock(monkeypatch) -> list[float]:
    """The budget's perf_counter, set by the test: ``clock[0] = seconds``."""
    now = [100.0]
    monkeypatch.setattr(budget_module, "time", types.SimpleNamespace(perf_counter=lambda: now[0]))
    return now


def budget(per_epoch: int = 5, **budgets) -> Budget:
    return Budget(TrainConfig(**budgets).validate(), per_epoch)


def test_a_step_budget():
    b = budget(max_steps=10)
    assert [b.progress(s, s / 5) for s in (0, 3, 10, 12)] == [0.0, 0.3, 1.0, 1.0]
    assert b.reached(9, 1.8) == "" and b.reached(10, 2.0) == "reached max_steps=10"
    assert b.total_steps() == 10


def test_an_epoch_budget():
    b = budget(max_epochs=1.5)
    assert b.progress(3, 0.6) == pytest.approx(0.4) and b.progress(8, 1.6) == 1.0
    assert b.reached(7, 1.4) == "" and b.reached(8, 1.6) == "reached max_epochs=1.5"
    assert b.total_steps() == 8  # ceil(1.5 x 5)


def test_a_time_budget(clock):
    b = budget(max_minutes=2.0)
    assert b.seconds() == 0.0 and b.progress(0, 0.0) == 0.0  # not started
    b.start()
    clock[0] += 30
    assert b.seconds() == 30.0 and b.progress(1000, 200.0) == 0.25 and b.reached(1000, 200.0) == ""
    clock[0] += 90
    assert b.progress(1, 0.2) == 1.0 and b.reached(1, 0.2) == "reached max_minutes=2"
    assert b.total_steps() is None  # a time budget alone says no number of steps


def test_the_clock_continues_from_earlier_sessions(clock):
    b = budget(max_minutes=1.0)
    b.seconds_before = 45.0
    assert b.seconds() == 45.0 and b.progress(0, 0.0) == 0.75
    b.start()
    clock[0] += 15
    assert b.seconds() == 60.0 and b.reached(0, 0.0) == "reached max_minutes=1"


def test_several_budgets_the_first_reached_counts(clock):
    b = budget(max_steps=100, max_epochs=2.0, max_minutes=10.0)
    b.start()
    clock[0] += 60  # 10% of the time
    assert b.progress(20, 0.5) == 0.25  # the epochs lead
    assert b.progress(50, 0.5) == 0.5  # the steps lead
    assert b.total_steps() == 10  # two epochs of five batches come before 100 steps
    assert b.reached(10, 2.0) == "reached max_epochs=2"


def test_checkpoints_store_the_seconds_and_a_resume_continues_them(tmp_path):
    toy_trainer(tmp_path, ToyTask(sleep=0.01), max_steps=4).fit()
    seconds = read_meta(tmp_path / "latest.safetensors")["seconds"]
    assert seconds >= 0.04
    assert 0 < read_meta(tmp_path / "best.safetensors")["seconds"] <= seconds
    resumed = toy_trainer(tmp_path, max_steps=6)
    resumed.resume()
    assert resumed.budget.seconds_before == seconds and resumed.budget.seconds() == seconds
    resumed.fit()
    assert read_meta(tmp_path / "latest.safetensors")["seconds"] > seconds


def test_max_minutes_is_the_whole_runs_budget(tmp_path):
    """A second session with twice the budget trains for about the time the first one left."""
    budget_s = 0.15
    first = toy_trainer(tmp_path, ToyTask(sleep=0.01), max_minutes=budget_s / 60, eval_every=1000)
    assert first.fit()["stopped"] == f"reached max_minutes={budget_s / 60:g}"
    spent = read_meta(tmp_path / "latest.safetensors")["seconds"]
    assert spent >= budget_s

    log: list[str] = []
    again = toy_trainer(tmp_path, ToyTask(sleep=0.01), max_minutes=budget_s / 60, eval_every=1000)
    again.log = log.append
    again.resume()
    before = snapshot(*tmp_path.iterdir())
    summary = again.fit()
    assert summary["stopped"] == f"reached max_minutes={budget_s / 60:g}" and summary["step"] == first.step
    assert log == [
        f"nothing to train: the run already reached max_minutes={budget_s / 60:g}; give a larger budget to continue it"
    ]
    assert snapshot(*tmp_path.iterdir()) == before  # nothing written

    longer = toy_trainer(tmp_path, ToyTask(sleep=0.01), max_minutes=2 * budget_s / 60, eval_every=1000)
    longer.resume()
    longer.fit()
    total = read_meta(tmp_path / "latest.safetensors")["seconds"]
    assert total >= 2 * budget_s and longer.step > first.step


def test_a_checkpoint_without_seconds_starts_the_clock_from_zero(tmp_path, monkeypatch):
    """Older checkpoints have no "seconds": the clock starts afresh."""
    toy_trainer(tmp_path, max_steps=2).fit()
    from rnnkit.train import trainer as trainer_module

    load = trainer_module.load_checkpoint

    def without_seconds(*args, **kwargs):
        ckpt = load(*args, **kwargs)
        ckpt.meta.pop("seconds")
        return ckpt

    monkeypatch.setattr(trainer_module, "load_checkpoint", without_seconds)
    resumed = toy_trainer(tmp_path, max_steps=4)
    resumed.resume()
    assert resumed.budget.seconds_before == 0.0
