"""Ctrl-C (rnnkit.train.interrupt): the first SIGINT finishes the step, saves a resumable
latest.safetensors and raises TrainingInterrupted naming the command that continues the run; the
resumed run ends exactly where an uninterrupted one does. A second SIGINT stops at once and leaves
every checkpoint whole. Tested in-process (SIGINT sent to this process from inside a step) and
with a real ``rnnkit train`` process."""

import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from rnnkit.checkpoint import CheckpointError, load_checkpoint, read_meta
from rnnkit.train import TrainingInterrupted
from rnnkit.train.window import Window
from tests.cli._harness import cli, ok
from tests.cli._runs import one_thread
from tests.train._compare import assert_same_checkpoint
from tests.train._toy import no_plots, records, toy_trainer  # noqa: F401 (no_plots: a fixture)
from tests.train.test_sigkill import classify_data, lm_data, resume_command
from tests.train.test_trainer import lm_trainer, logged_steps

VOLATILE = {"elapsed_s", "tokens_per_s"}
SETTINGS = {"max_steps": 12, "eval_every": 4, "log_every": 3, "dropout": 0.3}  # 7: in the middle of a log interval


@pytest.fixture(autouse=True)
def sigint_raises():
    """SIGINT as in an interactive Python (a test runner started in the background ignores it)."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


def ctrl_c_at(trainer, calls: set[int], then=None) -> None:
    """Send SIGINT to this process in the middle of the task's train_loss calls numbered ``calls``."""
    inner, count = trainer.task.train_loss, [0]

    def train_loss(*args, **kwargs):
        count[0] += 1
        if count[0] in calls:
            os.kill(os.getpid(), signal.SIGINT)
            if then:
                then()
        return inner(*args, **kwargs)

    trainer.task.train_loss = train_loss


def history(run: Path) -> list[dict]:
    return [{k: v for k, v in r.items() if k not in VOLATILE} for r in records(run)]


def no_validation(trainer):
    trainer.task.val_ids = None  # evaluate() -> {}: best is the latest, written after the next loss
    return trainer


@pytest.mark.parametrize("val, at", [(True, 7), (False, 7), (False, 8)])
def test_ctrl_c_saves_a_checkpoint_that_resumes_exactly(tmp_path, val, at):
    """With validation data; without, between evaluations (7) and at one (8: its checkpoint awaits the next loss)."""
    prepare = (lambda t: t) if val else no_validation
    full = prepare(lm_trainer(tmp_path / "full", **SETTINGS))
    full.fit()
    part = prepare(lm_trainer(tmp_path / "part", **SETTINGS))
    handler = signal.getsignal(signal.SIGINT)
    ctrl_c_at(part, {at})
    with pytest.raises(TrainingInterrupted) as caught:
        part.fit()
    assert signal.getsignal(signal.SIGINT) is handler  # restored
    assert str(caught.value).startswith(f"interrupted at step {at}; saved {part.latest_path}; continue with")
    assert read_meta(part.latest_path)["step"] == at  # the step in progress finished, then the save
    assert read_meta(part.best_path)["step"] == (8 if at == 8 else 4)  # never an unevaluated best
    assert max(logged_steps(tmp_path / "part")) == 6

    resumed = prepare(lm_trainer(tmp_path / "part", **SETTINGS))
    resumed.resume()
    assert resumed.step == at
    resumed.fit()
    for name in ("latest.safetensors", "best.safetensors"):
        assert assert_same_checkpoint(tmp_path / "full" / name, tmp_path / "part" / name) > 10
    assert history(tmp_path / "part") == history(tmp_path / "full")  # the log interval cut at 7 included


def test_a_second_ctrl_c_during_the_save_stops_at_once_and_keeps_the_last_checkpoint(tmp_path, monkeypatch):
    trainer = lm_trainer(tmp_path, **SETTINGS)
    replace, first = os.replace, []

    def replace_then_ctrl_c(src, dst, *args, **kwargs):  # the commit of every atomic write
        if first and str(dst).endswith("latest.safetensors"):
            os.kill(os.getpid(), signal.SIGINT)  # the second Ctrl-C, with the new checkpoint's temp file written
        return replace(src, dst, *args, **kwargs)

    monkeypatch.setattr(os, "replace", replace_then_ctrl_c)
    ctrl_c_at(trainer, {7}, then=lambda: first.append(True))
    with pytest.raises(KeyboardInterrupt) as caught:
        trainer.fit()
    assert not isinstance(caught.value, TrainingInterrupted)
    assert load_checkpoint(trainer.latest_path).meta["step"] == 4  # the evaluation's, whole
    assert not list(tmp_path.glob(".*.tmp"))  # the abandoned save left nothing behind


def test_no_handler_outside_the_main_thread(tmp_path):
    result = {}
    thread = threading.Thread(target=lambda: result.setdefault("summary", toy_trainer(tmp_path, max_steps=4).fit()))
    thread.start()
    thread.join()
    assert result["summary"]["step"] == 4  # signal.signal would have raised ValueError in this thread


def test_the_message_names_the_task_verb(tmp_path, monkeypatch):
    from rnnkit.tasks.classify.training import ClassificationTask

    inner, count = ClassificationTask.train_loss, [0]

    def train_loss(self, *args, **kwargs):
        count[0] += 1
        if count[0] == 3:
            os.kill(os.getpid(), signal.SIGINT)
        return inner(self, *args, **kwargs)

    monkeypatch.setattr(ClassificationTask, "train_loss", train_loss)
    run = tmp_path / "run"
    code, _, err = cli(*classify_data(tmp_path), "--max-steps", 20, "--run-dir", run)
    assert code == 130, err
    assert err.splitlines()[-1] == (
        f"rnnkit: interrupted at step 3; saved {run}/latest.safetensors; "
        f"continue with: rnnkit train classify --resume {run}"
    )


#: the interrupted process: SIGINT raising (as in a terminal, even when the test runner ignores it),
#: no curves.png (as in-process tests), and steps slow enough to be interrupted in the middle of the run
PRELUDE = """
import signal, sys, time
signal.signal(signal.SIGINT, signal.default_int_handler)
import rnnkit.train.trainer
from rnnkit.tasks.lm.training import LanguageModelTask
rnnkit.train.trainer.plot_curves = lambda *args, **kwargs: None
inner = LanguageModelTask.train_loss
def slow(self, *args, **kwargs):
    time.sleep(0.03)
    return inner(self, *args, **kwargs)
LanguageModelTask.train_loss = slow
from rnnkit.cli.main import main
sys.exit(main(sys.argv[1:]))
"""


def test_ctrl_c_to_a_real_training_process_then_resume(tmp_path):
    N = 40
    command = [*lm_data(tmp_path), "--max-steps", N, "--eval-every", 10, "--log-every", 3, "--seed", 5]
    run, full = tmp_path / "run", tmp_path / "full"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-c", PRELUDE, *map(str, command), "--run-dir", str(run)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        while max(logged_steps(run), default=0) < 12:
            assert proc.poll() is None, proc.stderr.read().decode()
            assert time.monotonic() < deadline, "step 12 not logged within 60 s"
            time.sleep(0.005)
        os.kill(proc.pid, signal.SIGINT)
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    err = proc.stderr.read().decode()
    proc.stderr.close()
    assert proc.returncode == 130, err
    assert "Traceback" not in err, err
    last = err.strip().splitlines()[-1]
    found = re.fullmatch(
        rf"rnnkit: interrupted at step (\d+); saved {re.escape(str(run))}/latest\.safetensors; "
        rf"continue with: rnnkit train --resume {re.escape(str(run))}",
        last,
    )
    assert found, last
    step = int(found[1])
    assert 12 <= step < N and read_meta(run / "latest.safetensors")["step"] == step

    with one_thread():
        ok(*resume_command("lm", run))
        ok(*command, "--run-dir", full)
    for name in ("latest.safetensors", "best.safetensors"):
        assert_same_checkpoint(full / name, run / name)
    assert history(run) == history(full)


def test_the_message_and_the_checkpointed_log_interval():
    e = TrainingInterrupted(5, Path("runs/x/latest.safetensors"))
    assert isinstance(e, KeyboardInterrupt)
    assert str(e) == "interrupted at step 5; saved runs/x/latest.safetensors; continue with Trainer.resume() and fit()"
    assert str(e.continue_with("rnnkit train --resume runs/x")).endswith(
        "; continue with: rnnkit train --resume runs/x"
    )
    window = Window()
    window.add(7, 2.5, 16, 3.25, True)
    assert Window.from_state(window.state(), "x").state() == window.state()
    assert Window.from_state(None, "x").steps == 0
    for bad in ({**window.state(), "norms": []}, {**window.state(), "units": -1}, [1, 2]):
        with pytest.raises(CheckpointError, match=r"checkpoint: x: window is .*; expected the sums of a log interval"):
            Window.from_state(bad, "x")
