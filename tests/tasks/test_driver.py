"""The one run driver: what it refuses before any training (the rest runs in every CLI test)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from rnnkit.tasks import TASKS, driver

V0 = Path(__file__).resolve().parents[1] / "fixtures" / "v0"


@pytest.mark.parametrize(
    "run, task, held",
    [("classify", "lm", "classify"), ("char_lm", "tag", "language-model"), ("tag", "classify", "tag")],
)
def test_resume_refuses_a_run_of_another_task(run, task, held, tmp_path):
    shutil.copytree(V0 / run, tmp_path / run)
    with pytest.raises(ValueError, match=f"holds a {held} run; expected a {TASKS[task].title} run"):
        driver.resume(TASKS[task], tmp_path / run, {}, log=lambda message: None, progress=False)


def test_stored_run_reads_and_migrates_the_latest_checkpoint():
    stored = driver.stored_run(V0 / "word_lm")
    assert stored.task == "lm" and stored.model_kind == "language_model"
    assert stored.model_config["rnn"]["cell"] == "gru" and stored.trainer["step"] == 4
    assert stored.sources == ["/tmp/rnnkit-v0-fixture-data/text.txt"]
