"""The one run driver: what it refuses before any training (the rest runs in every CLI test)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from rnnkit.tasks import TASKS, driver
from tests.cli._harness import assert_error, cli

V0 = Path(__file__).resolve().parents[1] / "fixtures" / "v0"


@pytest.mark.parametrize(
    "run, task, held, verb",
    [
        ("classify", "lm", "classify", "rnnkit train classify"),
        ("char_lm", "tag", "language-model", "rnnkit train"),
        ("tag", "classify", "tag", "rnnkit train tag"),
    ],
)
def test_resume_refuses_a_run_of_another_task(run, task, held, verb, tmp_path):
    """Issue 12: which kind of run it is, and the command that resumes it."""
    shutil.copytree(V0 / run, tmp_path / run)
    expected = f"resume: {tmp_path / run} holds a {held} run; resume it with `{verb} --resume {tmp_path / run}`"
    with pytest.raises(ValueError) as info:
        driver.resume(TASKS[task], tmp_path / run, {}, log=lambda message: None, progress=False)
    assert str(info.value) == expected


def test_the_cli_names_the_right_verb_for_another_task_s_run(tmp_path):
    shutil.copytree(V0 / "classify", tmp_path / "run")
    line = assert_error(cli("train", "--resume", tmp_path / "run", "--no-progress"), "holds a classify run")
    assert line.endswith(f"resume it with `rnnkit train classify --resume {tmp_path / 'run'}`")
    shutil.copytree(V0 / "char_lm", tmp_path / "lm")
    assert_error(cli("train", "classify", "--resume", tmp_path / "lm"), f"`rnnkit train --resume {tmp_path / 'lm'}`")


def test_stored_run_reads_and_migrates_the_latest_checkpoint():
    stored = driver.stored_run(V0 / "word_lm")
    assert stored.task == "lm" and stored.model_kind == "language_model"
    assert stored.model_config["rnn"]["cell"] == "gru" and stored.trainer["step"] == 4
    assert stored.sources == ["/tmp/rnnkit-v0-fixture-data/text.txt"]
