"""The trainer: exact resume (in-process, through the CLI, and after SIGKILL), metrics and plots.
(Guards, budgets and the monitor: test_guards.py; schedules, optimisers, clipping: test_optim.py.)"""

import dataclasses
import json
import math
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from torch import nn

from rnnkit.checkpoint import load_checkpoint, read_meta
from rnnkit.cli.main import main
from rnnkit.models import LanguageModel, LanguageModelConfig
from rnnkit.tasks import LanguageModelTask
from rnnkit.tasks.lm.prepare import prepare_chars
from rnnkit.train import (
    MetricsLog,
    TrainConfig,
    Trainer,
    seed_everything,
)
from tests.train._toy import no_plots, records, toy_trainer  # noqa: F401 (no_plots: a fixture)

CPU = torch.device("cpu")
WORDS = "the cat sat on a mat and ran to see her dog who was not there at all today".split()


def corpus_text(n_words: int = 420, seed: int = 0) -> str:
    rng = random.Random(seed)
    lines = [" ".join(rng.choice(WORDS) for _ in range(rng.randint(4, 9))) for _ in range(n_words // 6)]
    return "\n".join(lines) + "\n"


def lm_trainer(run_dir, text=None, B=8, T=20, dropout=0.3, model=None, **train) -> Trainer:
    """A 2x16 LSTM on the generated text: everything a CLI run builds, minus the CLI. ``model``:
    more [model] settings (flat recurrent keys allowed)."""
    cfg = TrainConfig(**{"device": "cpu", "log_every": 1, "eval_every": 4, "seed": 7, **train})
    seed_everything(cfg.seed)
    corpus = prepare_chars(text or corpus_text())
    mcfg = LanguageModelConfig.from_dict(
        dict(
            vocab_size=len(corpus.vocab),
            embedding_size=8,
            hidden_size=16,
            num_layers=2,
            dropout=dropout,
            **(model or {}),
        )
    )
    model = LanguageModel(mcfg)
    task = LanguageModelTask(corpus.splits["train"], corpus.splits["val"], B, T, CPU)
    meta = {
        "model": {"kind": LanguageModel.kind, "config": mcfg.to_dict()},
        "vocab": corpus.vocab.to_dict(),
        "config": {"train": dataclasses.asdict(cfg), "note": "test"},
    }
    return Trainer(model, task, cfg, run_dir, meta, progress=False)


def assert_same_weights(a: nn.Module, b: nn.Module) -> None:
    sa, sb = a.state_dict(), b.state_dict()
    assert sa.keys() == sb.keys()
    for key in sa:
        assert torch.equal(sa[key], sb[key]), key


# ----- exact resume -------------------------------------------------------------------------------
@pytest.mark.parametrize("optimizer, schedule", [("sgd", "step"), ("adam", "epoch"), ("adam", "plateau")])
def test_resume_is_bit_exact(tmp_path, optimizer, schedule):
    settings = {
        "optimizer": optimizer,
        "lr": 0.05 if optimizer == "sgd" else 0.01,
        "momentum": 0.9,
        "lr_schedule": schedule,
        "lr_decay": 0.5,
        "lr_decay_every": 3,
        "lr_decay_start": 1,
        "patience": 1,
    }
    full = lm_trainer(tmp_path / "full", max_steps=12, **settings)
    assert 8 < full.task.batches_per_epoch < 12  # the resumed part crosses an epoch boundary
    full.fit()

    lm_trainer(tmp_path / "part", max_steps=8, **settings).fit()
    assert read_meta(tmp_path / "part" / "latest.safetensors")["step"] == 8
    resumed = lm_trainer(tmp_path / "part", max_steps=12, **settings)
    resumed.resume()
    assert (resumed.step, resumed.epoch, resumed.index) == (8, 0, 8)
    resumed.fit()

    per_epoch = full.task.batches_per_epoch
    assert (
        (resumed.step, resumed.epoch, resumed.index) == (full.step, full.epoch, full.index) == (12, 1, 12 - per_epoch)
    )
    assert_same_weights(resumed.model, full.model)
    assert resumed.best_val == full.best_val
    # the explosion guard's running mean carried on, not restarted at the resumed step
    assert resumed.guard.state() == full.guard.state()
    assert resumed.optimizer.param_groups[0]["lr"] == full.optimizer.param_groups[0]["lr"]
    for a, b in zip(resumed.task.state, full.task.state):
        assert torch.equal(a, b)
    # the log describes one history: every step once, in order
    assert [r["step"] for r in records(tmp_path / "part", "train")] == list(range(1, 13))
    assert [r["step"] for r in records(tmp_path / "part", "eval")] == [4, 8, 12]
    assert [r["lr"] for r in records(tmp_path / "part", "train")] == [
        r["lr"] for r in records(tmp_path / "full", "train")
    ]


CLI_RUN = [
    "--batch-size",
    "8",
    "--seq-len",
    "20",
    "--hidden-size",
    "16",
    "--num-layers",
    "2",
    "--embedding-size",
    "8",
    "--dropout",
    "0.3",
    "--eval-every",
    "4",
    "--log-every",
    "1",
    "--optimizer",
    "sgd",
    "--lr",
    "0.05",
    "--lr-schedule",
    "step",
    "--lr-decay-every",
    "3",
    "--device",
    "cpu",
    "--no-progress",
    "--sample-length",
    "0",
]


def same_checkpoint_weights(a: Path, b: Path) -> None:
    sa, sb = load_checkpoint(a).model_state, load_checkpoint(b).model_state
    assert sa.keys() == sb.keys()
    for key in sa:
        assert torch.equal(sa[key], sb[key]), key


def test_resume_through_the_cli_is_bit_exact(tmp_path, capsys):
    data = tmp_path / "corpus.txt"
    data.write_text(corpus_text())
    full, part = tmp_path / "full", tmp_path / "part"
    assert main(["train", str(data), "--run-dir", str(full), "--max-steps", "12", *CLI_RUN]) == 0
    assert main(["train", str(data), "--run-dir", str(part), "--max-steps", "8", *CLI_RUN]) == 0
    assert main(["train", "--resume", str(part), "--max-steps", "12", "--no-progress", "--sample-length", "0"]) == 0
    assert "resuming" in capsys.readouterr().err
    for name in ("latest.safetensors", "best.safetensors"):
        same_checkpoint_weights(full / name, part / name)
    assert read_meta(part / "latest.safetensors")["step"] == 12
    # the resolved config records the new budget
    assert json.loads((part / "config.json").read_text())["train"]["max_steps"] == 12


def logged_steps(run_dir: Path) -> list[int]:
    """Steps of the complete train records in a metrics.jsonl that is being appended to."""
    path = run_dir / "metrics.jsonl"
    steps = []
    for line in path.read_text().splitlines() if path.exists() else []:
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue
        if record.get("kind") == "train":
            steps.append(record["step"])
    return steps


def test_resume_after_sigkill_is_bit_exact(tmp_path, capsys):
    """Kill -9 a CLI training run right after its first checkpoint, resume it, and compare with a
    run that was never interrupted."""
    data = tmp_path / "corpus.txt"
    data.write_text(corpus_text())
    killed, full = tmp_path / "killed", tmp_path / "full"
    N = 60
    args = [
        "--eval-every",
        "5",
        "--log-every",
        "1",
        "--batch-size",
        "8",
        "--seq-len",
        "25",
        "--hidden-size",
        "16",
        "--num-layers",
        "1",
        "--embedding-size",
        "8",
        "--dropout",
        "0.2",
        "--device",
        "cpu",
        "--no-progress",
        "--sample-length",
        "0",
    ]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "rnnkit.cli.main",
            "train",
            str(data),
            "--run-dir",
            str(killed),
            "--max-steps",
            str(N),
            *args,
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        # kill between checkpoints: after the first one, once step 7 has been logged
        while not (
            (killed / "latest.safetensors").exists() and logged_steps(killed) and max(logged_steps(killed)) >= 7
        ):
            assert proc.poll() is None, proc.stderr.read().decode()
            assert time.monotonic() < deadline, "no checkpoint within 60 s"
            time.sleep(0.005)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait()
    assert proc.returncode == -signal.SIGKILL
    step = read_meta(killed / "latest.safetensors")["step"]
    assert 5 <= step < N and step % 5 == 0
    assert max(logged_steps(killed)) > step  # the log ran past the checkpoint the run resumes from

    assert main(["train", "--resume", str(killed), "--no-progress", "--sample-length", "0"]) == 0
    assert main(["train", str(data), "--run-dir", str(full), "--max-steps", str(N), *args]) == 0
    capsys.readouterr()
    same_checkpoint_weights(full / "latest.safetensors", killed / "latest.safetensors")
    same_checkpoint_weights(full / "best.safetensors", killed / "best.safetensors")
    # records the killed process wrote past its checkpoint were dropped: one history
    assert [r["step"] for r in records(killed, "train")] == list(range(1, N + 1))


@pytest.fixture
def real_plots():
    """Asked for by the tests that draw curves.png (see no_plots)."""


# ----- files --------------------------------------------------------------------------------------
def test_metrics_plot_and_config_files(tmp_path, real_plots):
    trainer = lm_trainer(tmp_path, max_steps=6, eval_every=3, log_every=2, clip=1e-3)
    summary = trainer.fit()
    assert summary["step"] == 6 and summary["stopped"] == "reached max_steps=6"
    train = records(tmp_path, "train")
    evals = records(tmp_path, "eval")
    assert [r["step"] for r in train] == [2, 4, 6]
    assert [r["step"] for r in evals] == [3, 6]
    for r in train:
        assert {"train_loss", "grad_norm", "clipped", "lr", "tokens_per_s", "epoch", "elapsed_s"} <= set(r)
        assert r["grad_norm"] > 1e-3 and r["clipped"] == 2  # a tiny clip clips every step of the window
        assert r["tokens_per_s"] > 0 and math.isfinite(r["train_loss"])
    for r in evals:
        assert r["val_bpc"] == pytest.approx(r["val_loss"] / math.log(2))
    assert summary["last_eval"]["step"] == 6
    assert (tmp_path / "curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert json.loads((tmp_path / "config.json").read_text()) == trainer.meta["config"]
    for name in ("latest", "best"):
        assert (tmp_path / f"{name}.safetensors").is_file()
        assert json.loads((tmp_path / f"{name}.json").read_text())["format_version"] == 1


def test_a_final_evaluation_when_the_budget_ends_between_evaluations(tmp_path):
    trainer = toy_trainer(tmp_path, max_steps=5, eval_every=2)
    trainer.fit()
    assert [r["step"] for r in records(tmp_path, "eval")] == [2, 4, 5]
    assert read_meta(trainer.latest_path)["step"] == 5


def test_metrics_log_drops_records_past_the_resume_step(tmp_path):
    path = tmp_path / "metrics.jsonl"
    path.write_text(
        "".join(json.dumps({"kind": "train", "step": s}) + "\n" for s in range(1, 8)) + '{"kind": "tra'
    )  # a line cut by a kill
    log = MetricsLog(path, resume_step=4)
    assert [r["step"] for r in log.records] == [1, 2, 3, 4]
    assert [json.loads(line)["step"] for line in path.read_text().splitlines()] == [1, 2, 3, 4]
