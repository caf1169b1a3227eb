"""Issue 12, items 2, 5 and 8: what a resume may change (applied or refused, never ignored), and a
resume of a finished run that changes nothing, so that extending it afterwards stays exact."""

import json
import shutil
from pathlib import Path

import pytest

from rnnkit.checkpoint import load_checkpoint, read_meta
from tests.cli._harness import assert_error, cli, ok
from tests.cli._runs import files, one_thread
from tests.train._compare import assert_same_checkpoint
from tests.train._toy import no_plots, records  # noqa: F401 (no_plots: a fixture)
from tests.train.test_trainer import CLI_RUN, corpus_text, lm_trainer

V0 = Path(__file__).resolve().parents[1] / "fixtures" / "v0"
QUIET = ["--no-progress", "--sample-length", "0"]


@pytest.fixture
def corpus(tmp_path) -> Path:
    path = tmp_path / "corpus.txt"
    path.write_text(corpus_text())
    return path


def train(corpus: Path, run: Path, steps: int, *flags) -> None:
    with one_thread():
        ok("train", corpus, "--run-dir", run, "--max-steps", steps, *CLI_RUN, *flags)


def resume(run: Path, *flags):
    with one_thread():
        return cli("train", "--resume", run, *QUIET, *flags)


def lrs(run: Path) -> dict[int, float]:
    return {r["step"]: r["lr"] for r in records(run, "train")}


@pytest.mark.parametrize("schedule", ["none", "step", "epoch", "plateau"])
def test_lr_on_resume_replaces_the_current_value_and_the_schedule_continues(corpus, tmp_path, schedule):
    """Was silently ignored while config.json recorded it (item 2)."""
    flags = ["--lr-schedule", schedule, "--lr-decay-start", "1", "--patience", "1"]
    full, part = tmp_path / "full", tmp_path / "part"
    train(corpus, full, 12, *flags)
    train(corpus, part, 8, *flags)
    assert resume(part, "--max-steps", 12, "--lr", 0.2)[0] == 0
    resumed, uninterrupted = lrs(part), lrs(full)
    assert resumed[8] == uninterrupted[8] != 0.2
    if schedule != "plateau":  # the plateau's decisions follow the new run's own evaluations
        for step in range(9, 13):  # the schedule's factors, continued from the new value
            assert resumed[step] == pytest.approx(0.2 * uninterrupted[step] / uninterrupted[8], rel=1e-12), step
    else:
        assert resumed[9] == 0.2
    assert load_checkpoint(part / "latest.safetensors").optimizer_state["param_groups"][0]["lr"] == resumed[12]
    assert json.loads((part / "config.json").read_text())["train"]["lr"] == 0.2


def test_every_other_training_option_is_applied_on_resume(corpus, tmp_path):
    """Momentum, weight decay, the schedule's settings and clipping given on resume all take effect."""
    run = tmp_path / "run"
    train(corpus, run, 8)  # sgd 0.05, momentum 0.9, step schedule: x0.5 every 3 steps
    assert lrs(run)[8] == pytest.approx(0.05 * 0.5**2)
    changes = ["--momentum", 0.5, "--weight-decay", 0.01, "--lr-decay", 0.1, "--lr-decay-every", 2, "--clip", 1e-6]
    assert resume(run, "--max-steps", 12, *changes)[0] == 0
    ckpt = load_checkpoint(run / "latest.safetensors")
    group = ckpt.optimizer_state["param_groups"][0]
    assert (group["momentum"], group["weight_decay"]) == (0.5, 0.01)
    assert (ckpt.scheduler_state["step_size"], ckpt.scheduler_state["gamma"]) == (2, 0.1)
    at_8 = 0.05 * 0.5**2
    expected = {9: at_8, 10: at_8 * 0.1, 11: at_8 * 0.1, 12: at_8 * 0.01}  # steps 10 and 12: x0.1
    assert {s: lr for s, lr in lrs(run).items() if s > 8} == pytest.approx(expected, rel=1e-12)
    assert all(r["clipped"] == 1 for r in records(run, "train") if r["step"] > 8)


@pytest.mark.parametrize(
    "flag, value, expected",
    [
        ("--optimizer", "adam", "expected --optimizer sgd (the run's own: its state is part of the run"),
        ("--lr-schedule", "plateau", "expected --lr-schedule step (the run's own"),
        ("--monitor", "val_bpc", "expected --monitor val_loss (the run's own"),
        ("--seed", 9, "expected --seed 1234 (the run's own: the random state comes from the checkpoint)"),
    ],
)
def test_settings_fixed_by_the_run_are_refused_on_resume(corpus, tmp_path, flag, value, expected):
    run = tmp_path / "run"
    train(corpus, run, 4)
    before = files(run)
    assert_error(resume(run, "--max-steps", 8, flag, value), f"resume: {expected}", f"got {value!r}")
    assert files(run) == before


def test_the_run_s_own_value_is_accepted_on_resume(corpus, tmp_path):
    run = tmp_path / "run"
    train(corpus, run, 4)
    assert resume(run, "--max-steps", 6, "--optimizer", "sgd", "--seed", 1234, "--lr-schedule", "step")[0] == 0
    assert read_meta(run / "latest.safetensors")["step"] == 6


def test_another_optimizer_on_resume_is_one_line(tmp_path):
    """Was KeyError 'momentum' (item 8): --optimizer sgd on an Adam run."""
    shutil.copytree(V0 / "char_lm", tmp_path / "run")
    before = files(tmp_path / "run")
    result = resume(tmp_path / "run", "--optimizer", "sgd")
    assert_error(result, "resume: expected --optimizer adam (the run's own", "got 'sgd'")
    result = resume(tmp_path / "run", "--momentum", 0.5)
    assert_error(result, "resume: expected no --momentum (the run's optimizer adam has none; sgd has), got 0.5")
    assert files(tmp_path / "run") == before


# ----- item 5: a resume of a finished run changes nothing -----------------------------------------
SETTINGS = {"optimizer": "adam", "lr": 0.01, "lr_schedule": "plateau", "lr_decay": 0.5, "patience": 1}


def test_a_no_op_resume_changes_nothing_and_extending_it_is_exact(tmp_path):
    """Re-evaluated and stepped the plateau schedule again; extended afterwards, the run then
    matched the uninterrupted one in 14 of 49 tensors (a SIGKILL right after the final checkpoint
    leads there: the user resumes to finish the run)."""
    full = lm_trainer(tmp_path / "full", max_steps=12, **SETTINGS)
    full.fit()
    lm_trainer(tmp_path / "part", max_steps=8, **SETTINGS).fit()
    before = {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in (tmp_path / "part").iterdir()}
    for _ in range(2):
        again = lm_trainer(tmp_path / "part", max_steps=8, **SETTINGS)
        again.resume()
        summary = again.fit()
        assert summary["stopped"] == "reached max_steps=8" and summary["last_eval"]["step"] == 8
    assert {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in (tmp_path / "part").iterdir()} == before
    extended = lm_trainer(tmp_path / "part", max_steps=12, **SETTINGS)
    extended.resume()
    extended.fit()
    for name in ("latest.safetensors", "best.safetensors"):
        assert assert_same_checkpoint(tmp_path / "full" / name, tmp_path / "part" / name) > 20
    assert [r["step"] for r in records(tmp_path / "part", "eval")] == [4, 8, 12]


def test_a_no_op_resume_through_the_cli_writes_nothing(corpus, tmp_path):
    run = tmp_path / "run"
    train(corpus, run, 8, "--lr-schedule", "plateau")
    before = {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in run.iterdir()}
    code, _, err = resume(run, "--max-steps", 8)
    assert code == 0 and "nothing to train: the run already reached max_steps=8" in err
    assert {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in run.iterdir()} == before
