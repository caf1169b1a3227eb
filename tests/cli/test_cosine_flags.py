"""The flags of issue 14 (--optimizer adamw, --lr-schedule cosine, --warmup, --min-lr-factor, --beta2):
a run with them trains, records them in config.json and its checkpoint, and ends at lr x the factor;
bad values are refused before anything is written; a resume cannot switch schedule or optimiser.

(A cosine run without any budget cannot be asked for here: with data, the language-model task gives
a run without a budget its default epochs, --max-epochs 0 included; the refusal is tested on
TrainConfig in tests/train/test_cosine.py.)"""

import json
import shutil
from pathlib import Path

import pytest

from rnnkit.checkpoint import load_checkpoint
from tests.train._toy import records

from ._harness import assert_error, cli
from ._runs import TINY, one_thread

COSINE = [
    "--lr-schedule",
    "cosine",
    "--warmup",
    "3",
    "--min-lr-factor",
    "0.2",
    "--optimizer",
    "adamw",
    "--weight-decay",
    "0.1",
    "--beta2",
    "0.99",
]
QUIET = ["--log-every", "1", "--eval-every", "10", "--sample-length", "0"]


@pytest.fixture(scope="module")
def cosine_run(data_dir, tmp_path_factory) -> Path:
    run = tmp_path_factory.mktemp("cosine") / "run"
    with one_thread():
        code, _, err = cli(
            "train", data_dir / "corpus.txt", "--run-dir", run, "--max-steps", 20, *COSINE, *QUIET, *TINY
        )
    assert code == 0, err
    assert "Traceback" not in err
    return run


def test_the_settings_are_recorded(cosine_run):
    train = json.loads((cosine_run / "config.json").read_text())["train"]
    expected = {"lr_schedule": "cosine", "warmup": 3, "min_lr_factor": 0.2, "optimizer": "adamw"}
    assert {k: train[k] for k in expected} == expected
    assert (train["weight_decay"], train["beta2"], train["max_steps"]) == (0.1, 0.99, 20)


def test_the_run_warms_up_then_decays_to_the_factor(cosine_run):
    lr = json.loads((cosine_run / "config.json").read_text())["train"]["lr"]
    logged = {r["step"]: r["lr"] for r in records(cosine_run, "train")}
    assert sorted(logged) == list(range(1, 21))
    assert logged[1] == pytest.approx(lr * 2 / 3 * (0.2 + 0.8 * 0.5 * (1 + 0.9876883405951378)), rel=1e-9)
    assert logged[20] == pytest.approx(lr * 0.2, rel=1e-12)
    assert all(logged[s] > logged[s + 1] for s in range(2, 20))  # warm (from step 2 on): decaying
    groups = load_checkpoint(cosine_run / "latest.safetensors").optimizer_state["param_groups"]
    assert [g["weight_decay"] for g in groups] == [0.1, 0.0]  # the matrices; biases and gains
    assert all(tuple(g["betas"]) == (0.9, 0.99) and g["lr"] == logged[20] for g in groups)


@pytest.mark.parametrize(
    "flags, message",
    [
        (["--min-lr-factor", "1.5"], "train: expected min_lr_factor in [0, 1), got 1.5"),
        (["--min-lr-factor", "nan"], "train: expected min_lr_factor in [0, 1), got nan"),
        (["--warmup", "-1"], "train: expected warmup to be an integer >= 0, got -1"),
        (["--beta2", "1"], "train: expected beta2 in [0, 1), got 1.0"),
        (["--beta2", "-0.5"], "train: expected beta2 in [0, 1), got -0.5"),
    ],
)
def test_bad_values_are_refused(data_dir, tmp_path, flags, message):
    run = tmp_path / "r"
    result = cli("train", data_dir / "corpus.txt", "--run-dir", run, "--max-steps", 2, *TINY, *flags)
    assert assert_error(result, message) == f"rnnkit: error: {message}"
    assert not (run / "latest.safetensors").exists()


@pytest.mark.parametrize(
    "flags, fragment",
    [
        (["--lr-schedule", "step"], "resume: expected --lr-schedule cosine"),
        (["--optimizer", "adam"], "resume: expected --optimizer adamw"),
    ],
)
def test_a_resume_keeps_the_schedule_and_the_optimizer(cosine_run, flags, fragment):
    before = (cosine_run / "latest.safetensors").read_bytes()
    with one_thread():
        result = cli("train", "--resume", cosine_run, "--no-progress", "--max-steps", 22, *flags)
    assert_error(result, fragment)
    assert (cosine_run / "latest.safetensors").read_bytes() == before


def test_a_resume_takes_a_new_warmup_and_factor(cosine_run, tmp_path):
    run = Path(shutil.copytree(cosine_run, tmp_path / "copy"))
    with one_thread():
        code, _, err = cli("train", "--resume", run, "--no-progress", "--max-steps", 24, "--min-lr-factor", "0.5")
    assert code == 0, err
    train = json.loads((run / "config.json").read_text())["train"]
    assert (train["min_lr_factor"], train["max_steps"]) == (0.5, 24)
    assert load_checkpoint(run / "latest.safetensors").scheduler_state["min_factor"] == 0.5
