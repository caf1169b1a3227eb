"""Issue 12, items 3 and 4: divergence caught from the first step, never a diverged checkpoint kept
as best or latest, and a message that says truthfully what was kept."""

import math
import re

import pytest
import torch

from rnnkit.checkpoint import load_checkpoint, read_meta
from rnnkit.train import TrainingStopped
from tests.cli._harness import cli
from tests.cli._runs import corpus_text
from tests.train._toy import ToyTask, no_plots, toy_trainer  # noqa: F401 (no_plots: a fixture)


def finite_weights(path) -> bool:
    return all(bool(torch.isfinite(t).all()) for t in load_checkpoint(path).model_state.values())


def sane_weights(path) -> bool:
    """Nowhere near what a diverged update leaves (1e30 and more)."""
    return all(float(t.abs().max()) < 1e10 for t in load_checkpoint(path).model_state.values() if t.numel())


def stopped_line(result) -> str:
    """Exit 1 and one line "rnnkit: training stopped: ..." (TrainingStopped)."""
    code, _, err = result
    assert "Traceback" not in err
    lines = [line for line in err.strip().splitlines() if not line.startswith("rnnkit: warning:")]
    assert code == 1, err
    assert lines[-1].startswith("rnnkit: training stopped: "), err
    return lines[-1]


def kept_is_true(line: str, run) -> None:
    """What the message says was kept is there and good (sane weights); or it says none was."""
    kept = re.search(r"the last good checkpoint is kept at (\S+);", line)
    if kept is None:
        assert "no checkpoint was written" in line, line
        assert not (run / "latest.safetensors").exists() and not (run / "best.safetensors").exists()
    else:
        assert kept.group(1) == str(run / "latest.safetensors")
        for name in ("latest", "best"):
            assert sane_weights(run / f"{name}.safetensors"), name


@pytest.fixture
def ok_txt(tmp_path):
    path = tmp_path / "ok.txt"
    path.write_text(corpus_text(200))
    return path


TINY = ["--hidden-size", "32", "--seq-len", "16", "--batch-size", "8", "--device", "cpu", "--no-progress"]


@pytest.mark.parametrize("eval_every", [10, 1])
def test_a_huge_lr_stops_from_the_first_steps(ok_txt, tmp_path, eval_every):
    """The issue's repro: exited 0 with a best validation loss of 2.3e31 nats."""
    run = tmp_path / "run"
    argv = ["train", ok_txt, "--lr", "1e30", "--max-steps", "60", "--eval-every", eval_every, "--run-dir", run]
    line = stopped_line(cli(*argv, *TINY, "--sample-length", "0"))
    assert re.search(r"(loss|validation loss) exploded to [\d.e+]+ at step [12] \(over 4x 2\.\d+", line), line
    kept_is_true(line, run)


def test_without_validation_data_the_kept_checkpoint_is_good(ok_txt, tmp_path):
    """Item 4: said "the last good checkpoint is kept at .../latest.safetensors", which held the
    diverged step."""
    run = tmp_path / "run"
    argv = ["train", ok_txt, "--split", "1,0,0", "--optimizer", "sgd", "--lr", "1e38", "--eval-every", "1"]
    line = stopped_line(cli(*argv, "--max-steps", "30", "--run-dir", run, *TINY, "--sample-length", "0"))
    kept_is_true(line, run)


def test_a_spike_early_in_the_run_is_divergence(tmp_path):
    """Before step 50 the guard measures against the start level (the old guard waited for 50 steps)."""
    trainer = toy_trainer(tmp_path, max_steps=20, eval_every=2)
    trainer.task.override = {7: lambda loss: loss * 0 + 1e3}
    with pytest.raises(TrainingStopped, match=r"loss exploded to 1000 at step 7 \(over 4x \d"):
        trainer.fit()
    assert read_meta(trainer.latest_path)["step"] == 6


def test_the_start_level_survives_a_resume(tmp_path):
    trainer = toy_trainer(tmp_path, max_steps=4, eval_every=2)
    trainer.fit()
    resumed = toy_trainer(tmp_path, max_steps=8, eval_every=2)
    resumed.resume()
    assert resumed.guard.start == trainer.guard.start is not None


def test_a_chance_level_above_the_first_loss_is_the_reference(tmp_path):
    task = ToyTask()
    task.loss_floor = 100.0
    trainer = toy_trainer(tmp_path, task, max_steps=6, eval_every=2)
    task.override = {3: lambda loss: loss * 0 + 300.0}  # over 4x the first loss, under 4x the floor
    assert trainer.fit()["step"] == 6


def test_an_exploded_validation_loss_is_never_best(tmp_path):
    values = iter([1.0, 1e6])
    trainer = toy_trainer(tmp_path, ToyTask(val=lambda: next(values)), max_steps=20, eval_every=2)
    with pytest.raises(TrainingStopped, match=r"validation loss exploded to 1e\+06 at step 4 \(") as info:
        trainer.fit()
    assert f"the last good checkpoint is kept at {trainer.latest_path}" in str(info.value)
    assert read_meta(trainer.best_path)["step"] == read_meta(trainer.latest_path)["step"] == 2


def test_non_finite_weights_are_never_saved(tmp_path):
    """Weights can overflow in an update although the loss and the gradient were finite."""
    trainer = toy_trainer(tmp_path, ToyTask(val=None), max_steps=20, eval_every=2)

    def overflow(loss):
        with torch.no_grad():
            trainer.model.bias.fill_(math.inf)  # as an overflowing update would leave it
        return loss

    trainer.task.override = {4: overflow}
    with pytest.raises(TrainingStopped) as info:
        trainer.fit()
    assert info.value.args[0].startswith("training stopped: the weights became non-finite at step 4;")
    assert f"the last good checkpoint is kept at {trainer.latest_path}" in str(info.value)
    assert read_meta(trainer.latest_path)["step"] == 2 and finite_weights(trainer.latest_path)


def test_without_validation_a_checkpoint_waits_for_the_next_loss(tmp_path):
    """Nothing vouches for the weights at an evaluation without validation data: their checkpoint
    is written once the next step's loss (on those weights) passed the guard."""
    trainer = toy_trainer(tmp_path, ToyTask(val=None), max_steps=20, eval_every=2)
    trainer.task.override = {5: lambda loss: loss * 0 + 1e3}  # the loss of step 4's weights
    with pytest.raises(TrainingStopped, match="loss exploded to 1000 at step 5") as info:
        trainer.fit()
    assert f"the last good checkpoint is kept at {trainer.latest_path}" in str(info.value)
    assert read_meta(trainer.latest_path)["step"] == read_meta(trainer.best_path)["step"] == 2


def test_without_validation_the_final_checkpoint_is_written(tmp_path):
    trainer = toy_trainer(tmp_path, ToyTask(val=None), max_steps=5, eval_every=2)
    assert trainer.fit()["step"] == 5
    assert read_meta(trainer.latest_path)["step"] == read_meta(trainer.best_path)["step"] == 5
    assert math.isfinite(trainer.guard.start)


def test_without_validation_the_final_weights_are_checked_by_one_more_loss(tmp_path):
    trainer = toy_trainer(tmp_path, ToyTask(val=None), max_steps=4, eval_every=2)
    trainer.task.override = {5: lambda loss: loss * 0 + 1e3}  # the loss of the final (step 4) weights
    with pytest.raises(TrainingStopped, match="loss exploded to 1000 at step 5") as info:
        trainer.fit()
    assert f"the last good checkpoint is kept at {trainer.latest_path}" in str(info.value)
    assert read_meta(trainer.latest_path)["step"] == read_meta(trainer.best_path)["step"] == 2
