"""Issue 12: the SIGKILL/resume guarantee for every task. A real ``rnnkit train`` process of a
language model, a classifier and a tagger is killed with SIGKILL at random moments (at a random
step, in the middle of a checkpoint save, right after the final checkpoint), resumed each time,
and its final checkpoints equal an uninterrupted run's in every tensor (model, optimiser,
schedule, RNG, carried state) bit for bit, with one history in metrics.jsonl.

Each kill is followed by ``rnnkit train --resume RUN`` (or the original command when the kill
came before the first checkpoint). A save is caught in the middle by a killed process whose
``os.replace`` waits a little before each checkpoint's rename (its temp file is then complete on
disk, the rename not yet done: the commit point of atomic.py); the test kills it on seeing the
temp file.
"""

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from rnnkit.checkpoint import read_meta
from tests.cli._harness import ok
from tests.cli._runs import corpus_text, one_thread
from tests.cli.test_classify_tag_cli import DET, NOUN, VERB, keyword_rows, write_conllu, write_tsv
from tests.train._compare import assert_same_checkpoint
from tests.train._toy import no_plots, records  # noqa: F401 (no_plots: a fixture)
from tests.train.test_trainer import logged_steps

N = 24  # steps of every run
MODEL = ["--hidden-size", 8, "--embedding-size", 8, "--num-layers", 1, "--device", "cpu", "--no-progress"]
COMMON = ["--max-steps", N, "--eval-every", 3, "--log-every", 1, "--dropout", 0.2, "--seed", 5]
#: the killed process: the CLI (drawing no curves.png, as in-process tests: see _toy.no_plots), with a
#: pause before each checkpoint's rename when RNNKIT_TEST_SLOW_SAVE is set
PRELUDE = """
import os, sys, time
import rnnkit.train.trainer
rnnkit.train.trainer.plot_curves = lambda *args, **kwargs: None
if os.environ.get("RNNKIT_TEST_SLOW_SAVE"):
    replace = os.replace
    def slow(src, dst, *args, **kwargs):
        if str(dst).endswith(".safetensors"):
            time.sleep(0.15)
        return replace(src, dst, *args, **kwargs)
    os.replace = slow
from rnnkit.cli.main import main
sys.exit(main(sys.argv[1:]))
"""


def lm_data(root: Path) -> list:
    (root / "corpus.txt").write_text(corpus_text())
    lm = ["--batch-size", 4, "--seq-len", 20, "--optimizer", "sgd", "--lr-schedule", "step", "--lr-decay-every", 5]
    return ["train", root / "corpus.txt", *MODEL, *lm, "--sample-length", 0]


def classify_data(root: Path) -> list:
    path = write_tsv(root / "cls.tsv", keyword_rows(160, seed=3))
    return ["train", "classify", path, *MODEL, "--batch-size", 8, "--lr-schedule", "plateau"]


def tag_data(root: Path) -> list:
    rng = random.Random(4)
    sentences = [[rng.choice(words) for words in (DET, NOUN, VERB, DET, NOUN)] for _ in range(60)]
    path = write_conllu(root / "tag.conllu", sentences)
    return ["train", "tag", path, *MODEL, "--batch-size", 8, "--lr-schedule", "epoch", "--lr-decay-start", 1]


TASKS = {"lm": lm_data, "classify": classify_data, "tag": tag_data}


def resume_command(task: str, run: Path) -> list:
    verb = ["train"] if task == "lm" else ["train", task]
    return [*verb, "--resume", run, "--no-progress", *(["--sample-length", 0] if task == "lm" else [])]


def checkpoint_step(run: Path) -> int | None:
    try:
        return read_meta(run / "latest.safetensors")["step"]
    except (OSError, ValueError):
        return None


def saving(run: Path) -> bool:
    """A checkpoint's temp file is on disk: a save is in progress."""
    return any(run.glob(".*.safetensors.*.tmp"))


def run_and_kill(argv: list, run: Path, moment: str, rng: random.Random) -> int | None:
    """Start ``rnnkit ARGV`` (training into ``run``) and SIGKILL it at ``moment``: "step" (a random
    logged step), "save" (mid-save) or "final" (once the final checkpoint is written). Returns the
    exit code (None: killed)."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    if moment == "save":
        env["RNNKIT_TEST_SLOW_SAVE"] = "1"
    target = rng.randint(2, N - 8)  # a few steps of the run left for the kills after it
    ready = {
        "step": lambda: max(logged_steps(run), default=0) >= target,
        "save": lambda: saving(run) and max(logged_steps(run), default=0) >= target,
        "final": lambda: checkpoint_step(run) == N,
    }[moment]
    proc = subprocess.Popen(
        [sys.executable, "-c", PRELUDE, *map(str, argv)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        deadline = time.monotonic() + 60
        while proc.poll() is None and not ready():
            assert time.monotonic() < deadline, f"{moment}: not reached within 60 s"
            time.sleep(0.002)
        if proc.poll() is None:
            if moment == "step":
                time.sleep(rng.uniform(0, 0.005))  # anywhere in the step
            os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait()
    err = proc.stderr.read().decode()
    proc.stderr.close()
    assert proc.returncode in (0, -signal.SIGKILL), err
    assert "Traceback" not in err, err
    return None if proc.returncode < 0 else proc.returncode


@pytest.mark.parametrize("task", sorted(TASKS))
def test_sigkill_at_random_moments_then_resume_is_bit_exact(tmp_path, task):
    rng = random.Random(f"sigkill-{task}")
    command = [*TASKS[task](tmp_path), *COMMON]
    full, killed = tmp_path / "full", tmp_path / "killed"
    with one_thread():
        ok(*command, "--run-dir", full)

    kills = 0
    for moment in ("step", "save", "final"):
        if checkpoint_step(killed) is None:  # killed before its first checkpoint: start it again
            argv = [*command, "--run-dir", killed]
        else:
            argv = resume_command(task, killed)
        kills += run_and_kill(argv, killed, moment, rng) is None
    assert kills >= 2  # at least the step and the save were interrupted
    assert not saving(killed) or checkpoint_step(killed) is not None
    with one_thread():  # finish it (a no-op when the last kill came after the final checkpoint)
        ok(*resume_command(task, killed))

    assert checkpoint_step(killed) == N
    compared = sum(
        assert_same_checkpoint(full / name, killed / name) for name in ("latest.safetensors", "best.safetensors")
    )
    assert compared > 10
    assert [r["step"] for r in records(killed, "train")] == list(range(1, N + 1))  # one history
    assert [r["step"] for r in records(killed, "eval")] == [r["step"] for r in records(full, "eval")]
