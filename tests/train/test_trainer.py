"""The trainer: exact resume (in-process, through the CLI, and after SIGKILL), the NaN and explosion
guards, metrics and plots, budgets, learning-rate schedules and gradient clipping."""

import dataclasses
import json
import math
import os
import random
import re
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
from rnnkit.tasks.lm_prepare import prepare_chars
from rnnkit.train import (
    EpochDecay,
    MetricsLog,
    TrainConfig,
    Trainer,
    TrainingStopped,
    clip_gradients,
    make_optimizer,
    make_scheduler,
    seed_everything,
)

CPU = torch.device("cpu")
WORDS = "the cat sat on a mat and ran to see her dog who was not there at all today".split()


def corpus_text(n_words: int = 420, seed: int = 0) -> str:
    rng = random.Random(seed)
    lines = [" ".join(rng.choice(WORDS) for _ in range(rng.randint(4, 9))) for _ in range(n_words // 6)]
    return "\n".join(lines) + "\n"


def lm_trainer(run_dir, text=None, B=8, T=20, dropout=0.3, **train) -> Trainer:
    """A 2x16 LSTM on the generated text: everything a CLI run builds, minus the CLI."""
    cfg = TrainConfig(**{"device": "cpu", "log_every": 1, "eval_every": 4, "seed": 7, **train})
    seed_everything(cfg.seed)
    corpus = prepare_chars(text or corpus_text())
    mcfg = LanguageModelConfig.from_dict(
        dict(vocab_size=len(corpus.vocab), embedding_size=8, hidden_size=16, num_layers=2, dropout=dropout)
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


@pytest.fixture(autouse=True)
def no_plots(request, monkeypatch):
    """Drawing curves.png costs ~0.1 s per evaluation; only the tests that ask for real_plots draw."""
    if "real_plots" not in request.fixturenames:
        monkeypatch.setattr("rnnkit.train.trainer.plot_curves", lambda *args, **kwargs: None)


@pytest.fixture
def real_plots():
    pass


def records(run_dir: Path, kind: str | None = None) -> list[dict]:
    lines = (run_dir / "metrics.jsonl").read_text().splitlines()
    out = [json.loads(line) for line in lines]
    return [r for r in out if kind is None or r["kind"] == kind]


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
    assert (resumed.loss_smooth, resumed.loss_lowest) == (full.loss_smooth, full.loss_lowest)
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


# ----- a toy task: the trainer is model-agnostic --------------------------------------------------
class ToyTask:
    """Regress a fixed linear map; ``losses`` can override the loss at given (1-based) steps."""

    loss_floor = 0.0

    def __init__(self, per_epoch: int = 5, val: float | None = 1.0, override=None, sleep: float = 0.0):
        self.batches_per_epoch = per_epoch
        self.val, self.override, self.sleep = val, override or {}, sleep
        self.calls = 0
        self.x = torch.randn(16, 3, generator=torch.Generator().manual_seed(0))
        self.y = self.x @ torch.tensor([1.0, -2.0, 0.5])

    def train_loss(self, model, index, epoch=0):
        self.calls += 1
        if self.sleep:
            time.sleep(self.sleep)
        loss = ((model(self.x).squeeze(-1) - self.y) ** 2).mean()
        if self.calls in self.override:
            loss = self.override[self.calls](loss)
        return loss, 16

    def evaluate(self, model):
        if self.val is None:
            return {}
        return {"val_loss": self.val() if callable(self.val) else self.val}

    def describe(self, val):
        return f"val loss {val['val_loss']:.4f}"

    def state_tensors(self):
        return {}

    def load_state_tensors(self, tensors):
        pass


def toy_trainer(run_dir, task=None, **train) -> Trainer:
    torch.manual_seed(0)
    cfg = TrainConfig(**{"device": "cpu", "log_every": 1, "eval_every": 2, "lr": 0.01, **train})
    return Trainer(nn.Linear(3, 1), task or ToyTask(), cfg, run_dir, {"config": {"train": "toy"}}, progress=False)


def snapshot(*paths: Path) -> dict:
    return {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in paths}


@pytest.mark.parametrize("bad", [math.nan, math.inf])
def test_nan_loss_stops_and_keeps_the_last_good_checkpoint(tmp_path, bad):
    trainer = toy_trainer(tmp_path, max_steps=20, eval_every=2)
    latest, best = trainer.latest_path, trainer.best_path
    seen = {}

    def poison(loss):
        seen.update(snapshot(latest, best, latest.with_suffix(".json")))  # what step 4's eval left
        return loss * bad

    trainer.task.override = {5: poison}
    with pytest.raises(TrainingStopped) as info:
        trainer.fit()
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(f"training stopped: loss became {bad} at step 5;")
    assert f"the last good checkpoint is kept at {latest}" in message
    assert seen and snapshot(latest, best, latest.with_suffix(".json")) == seen  # byte-identical, untouched
    assert read_meta(latest)["step"] == 4
    assert trainer.step == 4  # the poisoned step was never taken


def test_nan_before_any_checkpoint_says_so(tmp_path):
    trainer = toy_trainer(tmp_path, max_steps=20, eval_every=10)
    trainer.task.override = {3: lambda loss: loss * math.nan}
    with pytest.raises(TrainingStopped, match=r"loss became nan at step 3; no checkpoint was written"):
        trainer.fit()
    assert not trainer.latest_path.exists() and not trainer.best_path.exists()


class InfiniteGradient(torch.autograd.Function):
    """Identity forward; an infinite gradient backward (a finite loss whose gradient overflows)."""

    @staticmethod
    def forward(ctx, x):
        return x.clone()

    @staticmethod
    def backward(ctx, grad):
        return grad * math.inf


def test_infinite_gradient_stops_before_the_optimizer_step(tmp_path):
    trainer = toy_trainer(tmp_path, max_steps=20, eval_every=2)
    before = None

    def spy(loss):
        nonlocal before
        before = [p.detach().clone() for p in trainer.model.parameters()]
        return InfiniteGradient.apply(loss)

    trainer.task.override = {3: spy}
    with pytest.raises(TrainingStopped, match=r"gradient norm became (inf|nan) at step 3;"):
        trainer.fit()
    assert all(torch.equal(a, b) for a, b in zip(before, trainer.model.parameters()))
    assert read_meta(trainer.latest_path)["step"] == 2


def test_nan_validation_loss_stops_without_saving(tmp_path):
    values = iter([1.0, math.nan])
    trainer = toy_trainer(tmp_path, ToyTask(val=lambda: next(values)), max_steps=20, eval_every=2)
    with pytest.raises(TrainingStopped, match=r"validation loss became nan at step 4"):
        trainer.fit()
    assert read_meta(trainer.latest_path)["step"] == 2
    assert read_meta(trainer.best_path)["step"] == 2


def test_best_is_not_overwritten_by_a_worse_evaluation(tmp_path):
    values = iter([2.0, 1.0, 3.0, 1.5])
    trainer = toy_trainer(tmp_path, ToyTask(val=lambda: next(values)), max_steps=8, eval_every=2)
    trainer.fit()
    assert read_meta(trainer.best_path)["step"] == 4
    assert read_meta(trainer.best_path)["best_score"] == 1.0
    assert read_meta(trainer.latest_path)["step"] == 8
    assert trainer.best_val == 1.0


def test_without_validation_best_is_the_latest(tmp_path):
    trainer = toy_trainer(tmp_path, ToyTask(val=None), max_steps=4, eval_every=2)
    trainer.fit()
    assert read_meta(trainer.best_path)["step"] == read_meta(trainer.latest_path)["step"] == 4


def test_explode_guard(tmp_path):
    trainer = toy_trainer(tmp_path, max_steps=100, eval_every=10, explode_factor=4.0)
    trainer.task.override = {60: lambda loss: loss * 0 + 1e3}
    with pytest.raises(TrainingStopped) as info:
        trainer.fit()
    message = str(info.value)
    assert re.search(r"loss exploded to 1000\.000 at step 60 \(over 4x its best running mean \d", message)
    assert f"the last good checkpoint is kept at {trainer.latest_path}" in message
    assert read_meta(trainer.latest_path)["step"] == 50


def test_explode_guard_waits_for_a_running_mean(tmp_path):
    """A loss spike in the first 50 steps is not an explosion (there is no baseline yet)."""
    trainer = toy_trainer(tmp_path, max_steps=20, eval_every=10)
    trainer.task.override = {10: lambda loss: loss * 0 + 1e3}
    assert trainer.fit()["step"] == 20


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


# ----- budgets ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "budget, step, reason",
    [
        ({"max_steps": 7}, 7, "reached max_steps=7"),
        ({"max_epochs": 2.0}, 10, "reached max_epochs=2"),
        ({"max_epochs": 1.4}, 7, "reached max_epochs=1.4"),
        ({"max_epochs": 3.0, "max_steps": 4}, 4, "reached max_steps=4"),  # the first budget reached wins
    ],
)
def test_step_and_epoch_budgets(tmp_path, budget, step, reason):
    summary = toy_trainer(tmp_path, ToyTask(per_epoch=5), **budget).fit()
    assert (summary["step"], summary["stopped"]) == (step, reason)


def test_minutes_budget(tmp_path):
    started = time.perf_counter()
    summary = toy_trainer(tmp_path, ToyTask(sleep=0.01), max_minutes=0.3 / 60, eval_every=1000).fit()
    assert summary["stopped"] == "reached max_minutes=0.005"
    assert 5 <= summary["step"] <= 40
    assert time.perf_counter() - started < 10


# ----- learning-rate schedules --------------------------------------------------------------------
def toy_optimizer(lr: float = 1.0):
    return torch.optim.SGD([nn.Parameter(torch.zeros(1))], lr=lr)


def test_epoch_decay_is_constant_then_geometric():
    opt = toy_optimizer()
    sched = EpochDecay(opt, start=3, gamma=0.5)
    lrs = []
    for _ in range(6):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    assert lrs == [1.0, 1.0, 1.0, 0.5, 0.25, 0.125]


def test_make_scheduler_kinds():
    cfg = TrainConfig(lr=1.0, lr_decay=0.1, lr_decay_every=2, lr_decay_start=1, patience=2)
    for schedule, cls, when in [
        ("step", torch.optim.lr_scheduler.StepLR, "step"),
        ("epoch", EpochDecay, "epoch"),
        ("plateau", torch.optim.lr_scheduler.ReduceLROnPlateau, "eval"),
    ]:
        sched, on = make_scheduler(toy_optimizer(), dataclasses.replace(cfg, lr_schedule=schedule))
        assert isinstance(sched, cls) and on == when
    assert make_scheduler(toy_optimizer(), cfg) == (None, "")


def test_step_schedule_in_the_trainer(tmp_path):
    toy_trainer(
        tmp_path,
        max_steps=7,
        lr=1.0,
        optimizer="sgd",
        momentum=0.0,
        lr_schedule="step",
        lr_decay=0.5,
        lr_decay_every=3,
        eval_every=100,
    ).fit()
    # the lr recorded at step s is the one in force after s scheduler steps
    assert [r["lr"] for r in records(tmp_path, "train")] == [1, 1, 0.5, 0.5, 0.5, 0.25, 0.25]


def test_epoch_schedule_in_the_trainer(tmp_path):
    toy_trainer(
        tmp_path,
        ToyTask(per_epoch=2),
        max_steps=8,
        lr=1.0,
        optimizer="sgd",
        lr_schedule="epoch",
        lr_decay=0.5,
        lr_decay_start=2,
        eval_every=100,
    ).fit()
    assert [r["lr"] for r in records(tmp_path, "train")] == [1, 1, 1, 0.5, 0.5, 0.25, 0.25, 0.125]


def test_plateau_schedule_in_the_trainer(tmp_path):
    """A flat validation loss: the lr halves after every ``patience`` evaluations without improvement."""
    trainer = toy_trainer(
        tmp_path,
        ToyTask(val=1.0),
        max_steps=6,
        lr=1.0,
        optimizer="sgd",
        lr_schedule="plateau",
        lr_decay=0.5,
        patience=2,
        eval_every=1,
    )
    trainer.fit()
    # evaluations: 1 best, 2 no gain, 3 no gain -> x0.5, 4 no gain, 5 no gain -> x0.5
    assert [r["lr"] for r in records(tmp_path, "train")] == [1, 1, 1, 0.5, 0.5, 0.25]


# ----- optimisers and clipping --------------------------------------------------------------------
@pytest.mark.parametrize(
    "name, cls",
    [
        ("adam", torch.optim.Adam),
        ("sgd", torch.optim.SGD),
        ("rmsprop", torch.optim.RMSprop),
        ("adagrad", torch.optim.Adagrad),
    ],
)
def test_make_optimizer(name, cls):
    opt = make_optimizer([nn.Parameter(torch.zeros(2))], TrainConfig(optimizer=name, lr=0.3, momentum=0.7))
    assert isinstance(opt, cls) and opt.param_groups[0]["lr"] == 0.3
    if name == "sgd":
        assert opt.param_groups[0]["momentum"] == 0.7


def with_grads(*grads):
    model = nn.Module()
    model.a = nn.Parameter(torch.zeros(len(grads[0])))
    model.b = nn.Parameter(torch.zeros(len(grads[1])))
    model.unused = nn.Parameter(torch.zeros(3))  # no gradient: ignored
    model.a.grad, model.b.grad = torch.tensor(grads[0]), torch.tensor(grads[1])
    return model


def test_clip_norm():
    model = with_grads([3.0, 0.0], [0.0, -4.0])  # global norm 5
    norm, clipped = clip_gradients(model, TrainConfig(clip_mode="norm", clip=1.0))
    assert norm == pytest.approx(5.0) and clipped
    torch.testing.assert_close(model.a.grad, torch.tensor([0.6, 0.0]))
    torch.testing.assert_close(model.b.grad, torch.tensor([0.0, -0.8]))
    model = with_grads([3.0, 0.0], [0.0, -4.0])
    norm, clipped = clip_gradients(model, TrainConfig(clip_mode="norm", clip=10.0))
    assert norm == pytest.approx(5.0) and not clipped
    assert torch.equal(model.b.grad, torch.tensor([0.0, -4.0]))


def test_clip_value():
    model = with_grads([3.0, 0.5], [0.0, -4.0])
    norm, clipped = clip_gradients(model, TrainConfig(clip_mode="value", clip=2.0))
    assert norm == pytest.approx(math.sqrt(9 + 0.25 + 16)) and clipped  # the norm before clipping
    assert torch.equal(model.a.grad, torch.tensor([2.0, 0.5]))
    assert torch.equal(model.b.grad, torch.tensor([0.0, -2.0]))
    model = with_grads([1.0, 0.5], [0.0, -1.5])
    assert clip_gradients(model, TrainConfig(clip_mode="value", clip=2.0))[1] is False


def test_clip_none():
    model = with_grads([30.0, 0.0], [0.0, -40.0])
    norm, clipped = clip_gradients(model, TrainConfig(clip_mode="none", clip=1.0))
    assert norm == pytest.approx(50.0) and not clipped
    assert torch.equal(model.a.grad, torch.tensor([30.0, 0.0]))


@pytest.mark.parametrize(
    "field, value, msg",
    [
        ("optimizer", "lbfgs", "train: expected optimizer in ('adam', 'sgd', 'rmsprop', 'adagrad'), got 'lbfgs'"),
        ("clip_mode", "max", "train: expected clip_mode in ('norm', 'value', 'none'), got 'max'"),
        ("lr_schedule", "cosine", "train: expected lr_schedule in ('none', 'step', 'epoch', 'plateau')"),
        ("lr", 0.0, "train: expected lr > 0, got 0.0"),
        ("lr_decay", 1.5, "train: expected lr_decay in (0, 1], got 1.5"),
        ("max_minutes", -1.0, "train: expected max_minutes >= 0, got -1.0"),
        ("max_steps", 2.5, "train: expected max_steps to be an integer >= 0, got 2.5"),
        ("log_every", 0, "train: expected log_every to be an integer >= 1, got 0"),
        ("eval_every", -1, "train: expected eval_every to be an integer >= 0, got -1"),
    ],
)
def test_train_config_validation(field, value, msg):
    with pytest.raises(ValueError, match=re.escape(msg)):
        TrainConfig(**{field: value}).validate()


# ----- the monitored metric -----------------------------------------------------------------------
class ScriptedEval(ToyTask):
    """Evaluations return the scripted (val_loss, val_acc) pairs in turn."""

    def __init__(self, script):
        super().__init__(per_epoch=100)
        self.script, self.evals = list(script), 0

    def evaluate(self, model):
        loss, acc = self.script[min(self.evals, len(self.script) - 1)]
        self.evals += 1
        return {"val_loss": loss, "val_acc": acc}


def best_step(run_dir) -> int:
    return read_meta(Path(run_dir) / "best.safetensors")["step"]


def test_monitor_accuracy_picks_the_most_accurate_and_breaks_ties_by_loss(tmp_path):
    script = [(0.9, 0.50), (0.5, 0.70), (0.4, 0.65), (0.45, 0.70), (0.3, 0.70), (0.2, 0.60)]
    trainer = toy_trainer(tmp_path / "acc", ScriptedEval(script), monitor="val_acc", max_steps=12)
    trainer.fit()
    # evaluations at steps 2, 4, ..., 12: 0.70 first at step 4, equalled with a lower loss at step 10
    assert best_step(tmp_path / "acc") == 10
    assert trainer.best_val == 0.70 and trainer.best_loss == 0.3
    by_loss = toy_trainer(tmp_path / "loss", ScriptedEval(script), max_steps=12)
    by_loss.fit()
    assert best_step(tmp_path / "loss") == 12 and by_loss.best_val == 0.2


def test_monitor_must_be_a_metric_of_the_task(tmp_path):
    with pytest.raises(ValueError, match="expected monitor to name a validation metric such as 'val_loss', got 'acc'"):
        TrainConfig(monitor="acc").validate()
    trainer = toy_trainer(tmp_path, ToyTask(), monitor="val_acc", max_steps=2)
    with pytest.raises(ValueError, match=re.escape("expected monitor to be one of the task's metrics ['val_loss']")):
        trainer.fit()
