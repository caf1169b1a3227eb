"""The model-agnostic trainer: optimise, clip, evaluate, checkpoint, stop safely, resume exactly.

It knows the model only through its parameters and ``state_dict``, and the task only through the
``Task`` protocol (``rnnkit.train.task``): batches, losses, an evaluation and its log line, carried
state. What the task's metrics mean (bits, perplexity, accuracy) is the task's business.

Files in the run directory: config.json (the resolved configuration), metrics.jsonl (a "train" record
per log interval, with every step's global gradient norm before clipping in "grad_norms" and the
clipped steps in "clipped_steps"; an "eval" record per evaluation), curves.png,
latest.safetensors (full training state, written at every evaluation) and best.safetensors (the
best value of ``monitor`` so far), each with its .json sidecar. The trainer's part of the
checkpoint metadata is ``TRAINER_KEYS`` (step, epoch, index, best_score, ...), written and read
here only.

Divergence is caught from the first step: a non-finite training loss, gradient norm or weights, or
an exploded loss (``rnnkit.train.guard``: over ``explode_factor`` times the larger of the task's
chance level and the run's first loss, or its best running mean) stops the run. A checkpoint is
only ever written from finite weights whose loss passed these checks: with validation data, its
evaluation; without, the training loss of the step after it (the checkpoint is written then; the
run's final one after one more loss, no step taken), so a diverging run never overwrites a good
checkpoint, never calls a diverged one best, and says which it kept.

Resuming a run that already reached its budget does nothing (no evaluation, no file written), so
extending it afterwards continues exactly as the uninterrupted run. A first Ctrl-C finishes the step,
writes latest.safetensors (after the checks of a final checkpoint) and raises TrainingInterrupted;
a second one stops at once (rnnkit.train.interrupt). What the run shows meanwhile (a bar, or plain
lines when stderr is no terminal): rnnkit.train.progress; samples: TrainConfig.sample_every.
"""

from __future__ import annotations

import json
import math
import random
import time
from collections.abc import Callable
from contextlib import nullcontext
from pathlib import Path
from typing import NoReturn

import numpy as np
import torch

from rnnkit.checkpoint import Checkpoint, capture_rng_state, load_checkpoint, restore_rng_state, save_checkpoint
from rnnkit.checkpoint.atomic import atomic_write
from rnnkit.train.budget import Budget
from rnnkit.train.changes import retune
from rnnkit.train.config import TrainConfig
from rnnkit.train.device import check_device
from rnnkit.train.guard import LossGuard
from rnnkit.train.interrupt import CtrlC, TrainingInterrupted
from rnnkit.train.metrics import MetricsLog, plot_curves
from rnnkit.train.optim import clip_gradients, make_optimizer, make_scheduler
from rnnkit.train.progress import Progress
from rnnkit.train.task import Task
from rnnkit.train.tensorboard import TensorBoardLog
from rnnkit.train.window import Window

#: The trainer's keys in every checkpoint's metadata (the rest is the task's).
TRAINER_KEYS = tuple("step epoch index best_score monitor best_tiebreak_loss loss_guard eval window seconds".split())


#: Seconds between redrawings of curves.png during a session (it is always drawn at the end).
PLOT_EVERY_S = 30.0


class TrainingStopped(RuntimeError):
    """Training stopped because the loss diverged (NaN/inf or exploded). One-line message."""


def resolve_device(name: str) -> torch.device:
    """The device ``name`` names ("auto": CUDA where available, else the CPU), checked by ``check_device``."""
    if check_device(name) == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


class Trainer:
    """Args:
    model: any nn.Module the task can compute a loss with.
    task: a ``Task`` (rnnkit.train.task).
    config: TrainConfig.
    run_dir: where checkpoints, metrics and plots go.
    meta: JSON-able description stored in every checkpoint (model kind and config, vocabulary,
        data settings...), so sampling and evaluation need only the checkpoint.
    log: called with one-line human messages (the CLI prints them); the library never prints
        but the progress bar (rnnkit.train.progress: during ``fit`` every message goes above it).
    progress: a progress bar on a terminal, plain progress lines through ``log`` elsewhere.
    """

    def __init__(
        self,
        model,
        task: Task,
        config: TrainConfig,
        run_dir,
        meta: dict,
        log: Callable[[str], None] = lambda message: None,
        progress: bool = True,
    ):
        self.model, self.task, self.cfg = model, task, config.validate()
        self.run_dir = Path(run_dir)
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.meta, self.log, self.progress = meta, log, progress
        self.optimizer = make_optimizer(model.parameters(), config)
        self.scheduler, self.schedule_on = make_scheduler(self.optimizer, config)
        self.step, self.epoch, self.index = 0, 0, 0
        self.budget = Budget(self.cfg, task.batches_per_epoch)  # the budgets and the run's clock (checkpointed)
        self.best_val = math.inf if self.cfg.monitor_mode == "min" else -math.inf  # of cfg.monitor
        self.best_loss = math.inf  # val_loss at the best checkpoint: breaks ties of another monitor
        self.guard = LossGuard(self.cfg.explode_factor, task.loss_floor)  # checkpointed
        self.metrics: MetricsLog | None = None
        self._plotted: float | None = None  # when curves.png was last drawn
        self.resumed_eval: dict = {}  # the evaluation stored in the checkpoint resumed from
        self._pending: dict | None = None  # without validation data: a checkpoint awaiting its next loss
        self._latest_step = -1  # the step of latest.safetensors, once this trainer wrote or resumed it
        self.window = Window()  # the current log interval's sums (checkpointed when not empty)
        self.unit = getattr(task, "unit", "tok")  # what the task's batch sizes count, for the throughput
        self.board: TensorBoardLog | None = None
        self._say = log  # lasting lines: during fit, above the progress bar
        if self.cfg.sample_every and not callable(getattr(task, "sample", None)):
            raise ValueError(
                f"train: expected sample_every 0 for a task that cannot sample (language models can), "
                f"got {self.cfg.sample_every}"
            )

    # ----- checkpoints ------------------------------------------------------------------------
    @property
    def latest_path(self) -> Path:
        return self.run_dir / "latest.safetensors"

    @property
    def best_path(self) -> Path:
        return self.run_dir / "best.safetensors"

    def _held(self, val: dict | None) -> dict:
        """Everything of a checkpoint that the next step changes: its metadata, the RNG state and
        the carried state (the weights, optimiser and schedule change only at the next update).
        ``val``: the evaluation at this step (None: not evaluated, a Ctrl-C's checkpoint)."""
        meta = {
            **self.meta,
            "step": self.step,
            "epoch": self.epoch,
            "index": self.index,
            "best_score": self.best_val,  # the best value of cfg.monitor
            "monitor": self.cfg.monitor,
            "best_tiebreak_loss": self.best_loss,
            "loss_guard": self.guard.state(),
            "seconds": self.budget.seconds(),
        }
        if val is not None:
            meta["eval"] = val
        if self.window.steps:  # mid log interval: the resumed run's next record needs its sums
            meta["window"] = self.window.state()
        extra = {k: t.detach().clone() for k, t in self.task.state_tensors().items()}
        return {"meta": meta, "rng": capture_rng_state(), "extra": extra}

    def _save(self, path: Path, held: dict) -> None:
        save_checkpoint(
            path,
            self.model.state_dict(),
            held["meta"],
            optimizer_state=self.optimizer.state_dict(),
            scheduler_state=None if self.scheduler is None else self.scheduler.state_dict(),
            rng=held["rng"],
            extra_tensors=held["extra"],
        )
        if path == self.latest_path:
            self._latest_step = held["meta"]["step"]

    def _flush(self) -> None:
        """Write the checkpoint awaiting the check of its weights' training loss (no validation data:
        best is the latest)."""
        if self._pending is not None:
            held, self._pending = self._pending, None
            self._save(self.best_path, held)
            self._save(self.latest_path, held)

    def resume(self, checkpoint: Checkpoint | str | Path | None = None, changed=()) -> None:
        """Continue from a checkpoint (default: this run's latest; a loaded ``Checkpoint`` is used
        as is, e.g. one whose metadata was migrated) with every state restored. ``changed``: the
        [train] settings given anew (``rnnkit.train.changes``), applied on top of the restored
        optimiser and schedule: a new lr replaces the schedule's current value."""
        ckpt = checkpoint
        if not isinstance(ckpt, Checkpoint):
            ckpt = load_checkpoint(ckpt or self.latest_path, map_location=next(self.model.parameters()).device)
        self.model.load_state_dict(ckpt.model_state)
        self.optimizer.load_state_dict(ckpt.optimizer_state)
        if self.scheduler is not None and ckpt.scheduler_state is not None:
            self.scheduler.load_state_dict(ckpt.scheduler_state)
        self.task.load_state_tensors(ckpt.extra_tensors)
        if ckpt.rng_state is not None:
            restore_rng_state(ckpt.rng_state)
        meta = ckpt.meta
        self.step, self.epoch, self.index = meta["step"], meta["epoch"], meta["index"]
        self.best_val = meta["best_score"]
        self.best_loss = meta.get("best_tiebreak_loss", math.inf)
        self.budget.seconds_before = float(meta.get("seconds", 0.0))  # absent in older checkpoints: from 0
        self.guard.load(meta.get("loss_guard", {}))  # absent in checkpoints of older versions: start afresh
        self.resumed_eval = {"step": self.step, **meta.get("eval", {})}
        self.window = Window.from_state(meta.get("window"), ckpt.path)
        self._latest_step = self.step
        retune(self.optimizer, self.scheduler, self.cfg, changed)

    # ----- the loop ---------------------------------------------------------------------------
    @property
    def epochs(self) -> float:
        """Epochs done, fractional."""
        return self.epoch + self.index / self.task.batches_per_epoch

    def fit(self) -> dict:
        """Train until a budget is reached. Returns a summary dict. Raises TrainingStopped on
        divergence, TrainingInterrupted after a Ctrl-C (rnnkit.train.interrupt) and its checkpoint."""
        cfg = self.cfg
        if stop_reason := self.budget.reached(self.step, self.epochs):  # a resumed run already done
            self.log(f"nothing to train: the run already {stop_reason}; give a larger budget to continue it")
            return {
                "step": self.step,
                "epoch": self.epoch,
                "best_score": self.best_val,
                "stopped": stop_reason,
                "last_eval": self.resumed_eval,
                "elapsed_s": 0.0,
            }
        self.board = TensorBoardLog(self.run_dir, self.step, self.unit) if cfg.tensorboard else None
        atomic_write(self.run_dir / "config.json", json.dumps(self.meta.get("config", {}), indent=2) + "\n")
        self.metrics = MetricsLog(self.run_dir / "metrics.jsonl", resume_step=self.step)
        self.budget.start()
        started = self.budget.started  # this session's clock (the budget adds the earlier sessions')
        self.window.restart_clock()
        total, seconds = self.budget.total_steps(), max(0.0, 60 * cfg.max_minutes - self.budget.seconds_before)
        progress = Progress(self.log, self.progress, total, self.step, self.unit, seconds)
        self._say, last_eval = progress.write, {}  # lasting lines go above the bar
        try:
            with CtrlC() as ctrl_c:
                while not (stop_reason := self.budget.reached(self.step, self.epochs)):
                    self._train_step(progress, started)
                    if self._eval_due():
                        progress.before_eval()
                        last_eval = self._evaluate(started)
                    if cfg.sample_every and self.step % cfg.sample_every == 0:
                        self._sample()
                    if ctrl_c.requested:
                        self._interrupted()
                if not last_eval or last_eval.get("step") != self.step:
                    progress.before_eval()
                    last_eval = self._evaluate(started, on_schedule=self._eval_due())
                if self._pending is not None:  # without validation data, one more loss vouches for the final weights
                    self._probe()
                self._flush()
                if ctrl_c.requested:  # during the final evaluation: everything is saved
                    raise TrainingInterrupted(self.step, self.latest_path)
        finally:
            if self.metrics.records:
                self._plot(final=True)
            progress.close()
            self._say = self.log
            if self.board is not None:
                self.board.close()
        return {
            "step": self.step,
            "epoch": self.epoch,
            "best_score": self.best_val,
            "stopped": stop_reason,
            "last_eval": last_eval,
            "elapsed_s": time.perf_counter() - started,
        }

    def _train_step(self, progress: Progress, started: float) -> None:
        """One optimiser step, its checks, and the log interval's record when one ends."""
        cfg, model, task = self.cfg, self.model, self.task
        model.train()
        loss, units = task.train_loss(model, self.index, epoch=self.epoch)
        value = float(loss.detach())
        if not math.isfinite(value):
            raise TrainingStopped(self._diverged(f"loss became {value} at step {self.step + 1}"))
        if exploded := self.guard.train_loss(value, self.step + 1):
            raise TrainingStopped(self._diverged(exploded))
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        norm, clipped = clip_gradients(model, cfg)
        if not math.isfinite(norm):
            raise TrainingStopped(self._diverged(f"gradient norm became {norm} at step {self.step + 1}"))
        self._flush()  # the weights of a checkpoint awaiting this step's checks passed them
        self.optimizer.step()
        self.step += 1
        self.index += 1
        if self.schedule_on == "step":
            self.scheduler.step()
        elif self.schedule_on == "progress":  # the next step's lr, from the budget spent by now
            self.scheduler.progress = self.budget.progress(self.step, self.epochs)
            self.scheduler.step()
        if self.index >= task.batches_per_epoch:
            self.epoch, self.index = self.epoch + 1, 0
            if self.schedule_on == "epoch":
                self.scheduler.step()
        self.window.add(self.step, value, units, norm, clipped)
        if self.step % cfg.log_every == 0:
            epoch = self.epochs
            lr = self.optimizer.param_groups[0]["lr"]
            record = self.window.record(self.step, epoch, lr, time.perf_counter() - started)
            self.metrics.append(record)
            progress.record(record)
            if self.board is not None:
                self.board.train(record)
            self.window = Window()
        progress.advance(self.step)

    def _sample(self) -> None:
        """A short sample from the current weights, above the bar (TrainConfig.sample_every). The
        task draws from its own generator; every global RNG is restored after it anyway, so the
        run computes exactly what it would without samples."""
        rng = capture_rng_state()
        try:
            text = self.task.sample(self.model, self.cfg.seed + self.step)
        finally:
            restore_rng_state(rng)
        self._say(f"--- sample at step {self.step} ---\n{text.replace(chr(13), '')}")

    def _interrupted(self) -> NoReturn:
        """After a Ctrl-C, the step done: make latest.safetensors this step's (resumable, exactly
        as an evaluation's checkpoint; best is not touched, the weights were not evaluated) and
        raise TrainingInterrupted. The weights pass the checks of a final checkpoint first."""
        if self._pending is not None:  # no validation data: this step's evaluation awaits its next loss
            self._probe()
            self._flush()
        elif self._latest_step != self.step:
            held = self._held(None)  # before the probe, which draws dropout and moves the carried state
            self._check_weights()
            self._probe()
            self._save(self.latest_path, held)
        raise TrainingInterrupted(self.step, self.latest_path)

    def _probe(self) -> None:
        """The training loss of the next batch on the final weights, no step taken (the checkpoint
        awaiting it already holds the RNG and carried state this changes)."""
        with torch.no_grad():
            value = float(self.task.train_loss(self.model, self.index, epoch=self.epoch)[0])
        if not math.isfinite(value):
            raise TrainingStopped(self._diverged(f"loss became {value} on the weights of step {self.step}"))
        if exploded := self.guard.level("loss", value, self.step + 1):
            raise TrainingStopped(self._diverged(exploded))

    def _eval_due(self) -> bool:
        """Evaluation every eval_every steps (0: at the end of every epoch)."""
        if self.cfg.eval_every:
            return self.step % self.cfg.eval_every == 0
        return self.index == 0

    def _evaluate(self, started: float, on_schedule: bool = True) -> dict:
        """Evaluate, log, checkpoint. An extra evaluation when a budget stops the run between
        scheduled ones does not step the plateau schedule: a resumed run must continue exactly as
        an uninterrupted one, which never saw that evaluation."""
        with self._evaluated_weights():
            val = self.task.evaluate(self.model)
        record = {
            "kind": "eval",
            "step": self.step,
            "epoch": self.epochs,
            "elapsed_s": time.perf_counter() - started,
            **val,
        }
        val_loss = val.get("val_loss")
        if val_loss is not None and not math.isfinite(val_loss):
            raise TrainingStopped(self._diverged(f"validation loss became {val_loss} at step {self.step}"))
        self._check_weights()
        if val_loss is not None and (exploded := self.guard.level("validation loss", val_loss, self.step)):
            raise TrainingStopped(self._diverged(exploded))
        score = val.get(self.cfg.monitor)
        if val and score is None:
            raise ValueError(
                f"train: expected monitor to be one of the task's metrics {sorted(val)}, got {self.cfg.monitor!r}"
            )
        if self.schedule_on == "eval" and score is not None and on_schedule:
            self.scheduler.step(score)
        observe = getattr(self.optimizer, "observe", None)  # NT-ASGD's trigger
        if observe is not None and val_loss is not None and on_schedule and observe(val_loss, self.step):
            self._say(f"step {self.step}: validation loss stopped improving: averaging the weights from here (NT-ASGD)")
        better = (lambda a, b: a < b) if self.cfg.monitor_mode == "min" else (lambda a, b: a > b)
        loss = val_loss if val_loss is not None else math.inf
        improved = score is not None and (
            better(score, self.best_val) or (score == self.best_val and loss < self.best_loss)
        )
        if improved:  # e.g. equal accuracy (common on small validation sets): the lower loss wins
            self.best_val, self.best_loss = score, loss
        self.metrics.append(record)  # before the checkpoint: a resume drops it if the save never happened
        if self.board is not None:
            self.board.eval(record)
        if score is None:  # without validation data, "best" is the latest, written after the next loss
            self._pending = self._held(val)
        else:
            held = self._held(val)
            if improved:
                with self._evaluated_weights():  # best holds the weights evaluated
                    self._save(self.best_path, held)
            self._save(self.latest_path, held)
        self._plot(final=False)
        if val_loss is not None:
            self._say(f"step {self.step}: {self.task.describe(val)}" + (" (best)" if improved else ""))
        return record

    def _evaluated_weights(self):
        """The weights a run is evaluated with: NT-ASGD's average once it averages, else the model's."""
        averaged = getattr(self.optimizer, "averaged", None)
        return averaged() if averaged is not None else nullcontext()

    def _plot(self, final: bool) -> None:
        """curves.png, redrawn at an evaluation when PLOT_EVERY_S have passed since the last drawing
        (a drawing costs ~0.2 s, as much as evaluating a small model: short runs evaluate often)
        and at the end of every session."""
        now = time.perf_counter()
        if final or self._plotted is None or now - self._plotted >= PLOT_EVERY_S:
            plot_curves(self.metrics.records, self.run_dir / "curves.png", title=str(self.run_dir.name))
            self._plotted = time.perf_counter()

    def _check_weights(self) -> None:
        if not all(bool(torch.isfinite(p).all()) for p in self.model.parameters()):
            raise TrainingStopped(self._diverged(f"the weights became non-finite at step {self.step}"))

    def _diverged(self, what: str) -> str:
        kept = (
            f"the last good checkpoint is kept at {self.latest_path}"
            if self.latest_path.exists()
            else "no checkpoint was written"
        )
        return f"training stopped: {what}; {kept}; try a lower --lr or a smaller --clip"
