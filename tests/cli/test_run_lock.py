"""Concurrent runs on one run directory, through real processes: the second is refused in one line,
the first is unaffected, a SIGKILLed holder's lock is taken over by the next resume, and the lock is
released on every exit path (issue 12, item 6)."""

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from rnnkit.checkpoint import read_meta
from rnnkit.train.lock import LOCK_NAME

from ._harness import assert_error, cli
from ._runs import TINY, files

SRC = str(Path(__file__).parents[2] / "src")


def start(*argv) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": SRC, "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "rnnkit.cli.main", *map(str, argv)]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def wait_for_lock(run: Path, process: subprocess.Popen) -> int:
    """The pid in the run's lock file, once ``process`` holds it."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()
        try:
            pid = json.loads((run / LOCK_NAME).read_text())["pid"]
        except (OSError, ValueError, KeyError):
            pid = None
        if pid == process.pid:  # (a stale record of a killed run may be there before)
            return pid
        time.sleep(0.05)
    raise AssertionError("the first run never took the lock")


def metrics_steps(run: Path, kind: str = "train") -> list[int]:
    records = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    return [r["step"] for r in records if r["kind"] == kind]


def long_budget(minutes: float = 0.15) -> list:
    return ["--max-steps", 10**6, "--max-minutes", minutes, "--eval-every", 10**6, "--sample-length", 0]


def test_two_trainings_in_one_run_directory_the_second_is_refused(data_dir, tmp_path):
    run = tmp_path / "same"
    first = start("train", data_dir / "corpus.txt", "--run-dir", run, *long_budget(), *TINY)
    try:
        pid = wait_for_lock(run, first)
        line = assert_error(
            cli("train", data_dir / "corpus.txt", "--run-dir", run, "--max-steps", 3, *TINY),
            f"run directory: {run} is in use by rnnkit process {pid} (since ",
            "expected one run per directory",
        )
        assert "Traceback" not in line
    finally:
        _, err = first.communicate(timeout=300)
    assert first.returncode == 0, err
    assert "reached max_minutes" in err
    steps = metrics_steps(run)
    assert steps == sorted(set(steps)) and steps  # one history, never interleaved
    assert not (run / LOCK_NAME).exists()


def test_two_resumes_of_one_run_the_second_is_refused(copied_run):
    first = start("train", "--resume", copied_run, "--max-minutes", 0.15, "--max-steps", 10**6,
                  "--eval-every", 10**6, "--sample-length", 0, "--no-progress")  # fmt: skip
    try:
        pid = wait_for_lock(copied_run, first)
        assert_error(
            cli("train", "--resume", copied_run, "--max-steps", 99, "--no-progress"),
            f"is in use by rnnkit process {pid}",
        )
    finally:
        _, err = first.communicate(timeout=300)
    assert first.returncode == 0, err
    assert read_meta(copied_run / "latest.safetensors")["step"] > 6
    steps = metrics_steps(copied_run)
    assert steps == sorted(set(steps))
    assert not list(copied_run.glob(".*.tmp")) and not (copied_run / LOCK_NAME).exists()


def test_a_resume_takes_over_the_lock_of_a_sigkilled_run(copied_run):
    """Three runs SIGKILLed at random moments (mid-step, mid-save), each resume taking over the lock
    its predecessor left; then one that finishes. No temp file survives, the lock is gone."""
    moments, previous = random.Random(12), None
    for _ in range(3):
        run = start("train", "--resume", copied_run, "--max-steps", 10**6, "--eval-every", 2, "--sample-length", 0,
                    "--no-progress")  # fmt: skip
        try:
            pid = wait_for_lock(copied_run, run)
            time.sleep(moments.uniform(0.3, 1.5))
        finally:
            os.kill(run.pid, signal.SIGKILL)
            _, err = run.communicate()
        if previous is not None:
            assert f"took over the stale lock of rnnkit process {previous}" in err, err
        assert (copied_run / LOCK_NAME).exists()  # left behind: nothing runs at SIGKILL
        previous = pid
    stopped_at = read_meta(copied_run / "latest.safetensors")["step"]
    code, _, err = cli("train", "--resume", copied_run, "--max-steps", stopped_at + 4, "--eval-every", 2,
                       "--sample-length", 0, "--no-progress")  # fmt: skip
    assert code == 0, err
    assert f"took over the stale lock of rnnkit process {previous}" in err
    assert read_meta(copied_run / "latest.safetensors")["step"] == stopped_at + 4
    assert not (copied_run / LOCK_NAME).exists()
    assert sorted(p.name for p in copied_run.glob(".*")) == []  # no temp file of a killed save is left


@pytest.mark.parametrize("error, code", [(KeyboardInterrupt(), 130), (ValueError("train: expected X, got Y"), 2)])
def test_the_lock_is_released_when_a_run_is_interrupted_or_fails(copied_run, monkeypatch, error, code):
    from rnnkit.train import Trainer

    def fit(self):
        raise error

    monkeypatch.setattr(Trainer, "fit", fit)
    result = cli("train", "--resume", copied_run, "--max-steps", 9, "--no-progress")
    assert result[0] == code and "Traceback" not in result[2]
    assert not (copied_run / LOCK_NAME).exists()


# ----- symlinked and odd run directories ----------------------------------------------------------
def test_a_symlinked_run_directory_is_refused_for_training_and_resume(data_dir, copied_run, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    (tmp_path / "new-link").symlink_to(empty)
    assert_error(
        cli("train", data_dir / "corpus.txt", "--run-dir", tmp_path / "new-link", "--max-steps", 2, *TINY),
        "is a symbolic link",
        "expected a real directory",
    )
    assert list(empty.iterdir()) == []
    before = files(copied_run)
    (tmp_path / "run-link").symlink_to(copied_run)
    assert_error(cli("train", "--resume", tmp_path / "run-link", "--max-steps", 9, "--no-progress"), "symbolic link")
    assert files(copied_run) == before


def test_a_file_as_run_directory_and_a_planted_lock_link_are_one_line(data_dir, copied_run, tmp_path):
    (tmp_path / "file").write_text("x")
    assert_error(
        cli("train", data_dir / "corpus.txt", "--run-dir", tmp_path / "file", "--max-steps", 2, *TINY),
        "expected a directory",
    )
    victim = tmp_path / "victim"
    victim.write_text("precious")
    (copied_run / LOCK_NAME).symlink_to(victim)
    assert_error(cli("train", "--resume", copied_run, "--max-steps", 9, "--no-progress"), "not rnnkit's lock file")
    assert victim.read_text() == "precious"


def test_a_symlinked_parent_of_the_run_directory_is_followed_as_the_user_named_it(data_dir, tmp_path):
    real = tmp_path / "disk"
    real.mkdir()
    (tmp_path / "runs").symlink_to(real)
    code, _, err = cli("train", data_dir / "corpus.txt", "--run-dir", tmp_path / "runs" / "r", "--max-steps", 2,
                       "--sample-length", 0, *TINY)  # fmt: skip
    assert code == 0, err
    assert read_meta(real / "r" / "latest.safetensors")["step"] == 2
