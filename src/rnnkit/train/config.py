"""Training defaults, in one dataclass the entry point composes and overrides."""

from __future__ import annotations

from dataclasses import dataclass

from rnnkit.config import is_real, monitor_mode
from rnnkit.train.device import check_device

OPTIMIZERS = ("adam", "adamw", "sgd", "rmsprop", "adagrad", "ntasgd")
CLIP_MODES = ("norm", "value", "none")
SCHEDULES = ("none", "step", "epoch", "plateau", "cosine")
_FINITE = " and finite (a float32: at most 3.4e38)"


@dataclass
class TrainConfig:
    """How to train. Budgets (max_steps, max_epochs, max_minutes) combine: the first reached stops.

    Attributes:
        optimizer: adam (default), adamw (decoupled ``weight_decay`` on the matrices only, betas
            (0.9, ``beta2``)), sgd (with ``momentum``), rmsprop, adagrad or ntasgd (SGD, averaged
            from the first evaluation worse than the best of all but the last ``nonmono``; evaluated
            and checkpointed as best with the average: rnnkit.train.ntasgd).
        clip_mode / clip: clip the global gradient norm to ``clip`` (default), clamp each gradient
            element to [-clip, clip] (char-rnn's "value"), or no clipping.
        lr_schedule: none; step (x lr_decay every lr_decay_every steps); epoch (constant for
            lr_decay_start epochs, then x lr_decay each epoch: Zaremba et al.); plateau (x lr_decay
            when the validation loss has not improved for ``patience`` evaluations); cosine (linear
            warm-up over ``warmup`` steps, then cosine decay to lr x ``min_lr_factor`` at the end of
            the budget: steps, epochs or minutes, whichever ends first; rnnkit.train.optim.BudgetCosine).
        eval_every: steps between evaluations (+ checkpoints); 0 = at the end of every epoch.
        explode_factor: stop (diverged) when a training or validation loss exceeds this multiple of the
            run's start level (chance or the first loss) or of its best running mean (rnnkit.train.guard).
        monitor: the validation metric that picks the best checkpoint and drives the plateau
            schedule: "val_loss" (lower is better) or a metric the task reports, e.g. "val_acc"
            (names ending in acc / accuracy / f1 / bleu / chrf are higher-is-better).
        sample_every: language models: every this many steps, a short sample from the current
            weights is written above the progress bar (0: never). It draws from its own generator
            and restores every global RNG, so the run computes exactly what it would without it.
        tensorboard: also log the scalars to RUN/tensorboard/ (rnnkit.train.tensorboard).
    """

    optimizer: str = "adam"
    lr: float = 2e-3
    momentum: float = 0.9
    weight_decay: float = 0.0
    clip_mode: str = "norm"
    clip: float = 5.0
    lr_schedule: str = "none"
    lr_decay: float = 0.5
    lr_decay_every: int = 1000
    lr_decay_start: int = 4
    patience: int = 1
    nonmono: int = 5
    warmup: int = 0
    min_lr_factor: float = 0.1
    beta2: float = 0.999
    max_steps: int = 0
    max_epochs: float = 0.0
    max_minutes: float = 0.0
    eval_every: int = 200
    log_every: int = 10
    seed: int = 1234
    device: str = "auto"
    explode_factor: float = 4.0
    monitor: str = "val_loss"
    sample_every: int = 0
    tensorboard: bool = False

    @property
    def monitor_mode(self) -> str:
        """ "max" for accuracy-like metrics, "min" for losses."""
        return monitor_mode(self.monitor)

    def validate(self) -> TrainConfig:
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"train: expected optimizer in {OPTIMIZERS}, got {self.optimizer!r}")
        if self.clip_mode not in CLIP_MODES:
            raise ValueError(f"train: expected clip_mode in {CLIP_MODES}, got {self.clip_mode!r}")
        if self.lr_schedule not in SCHEDULES:
            raise ValueError(f"train: expected lr_schedule in {SCHEDULES}, got {self.lr_schedule!r}")
        for name in ("lr", "clip", "explode_factor"):
            value = getattr(self, name)
            if not is_real(value) or not value > 0:
                raise ValueError(f"train: expected {name} > 0{'' if is_real(value) else _FINITE}, got {value!r}")
        if not isinstance(self.monitor, str) or not self.monitor.startswith("val_"):
            raise ValueError(
                f"train: expected monitor to name a validation metric such as 'val_loss', got {self.monitor!r}"
            )
        for name, low in (("min_lr_factor", 0.0), ("beta2", 0.0)):
            value = getattr(self, name)
            if not is_real(value) or not low <= value < 1:
                raise ValueError(f"train: expected {name} in [0, 1), got {value!r}")
        if not is_real(self.lr_decay) or not 0 < self.lr_decay <= 1:
            raise ValueError(f"train: expected lr_decay in (0, 1], got {self.lr_decay!r}")
        for name in ("momentum", "weight_decay", "max_epochs", "max_minutes"):
            value = getattr(self, name)
            if not is_real(value) or value < 0:
                raise ValueError(f"train: expected {name} >= 0{'' if is_real(value) else _FINITE}, got {value!r}")
        check_device(self.device)
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or not 0 <= self.seed < 2**32:
            raise ValueError(f"train: expected seed to be an integer in [0, 2**32), got {self.seed!r}")
        if not isinstance(self.tensorboard, bool):
            raise ValueError(f"train: expected tensorboard to be true or false, got {self.tensorboard!r}")
        for name in ("max_steps", "lr_decay_start", "eval_every", "sample_every", "warmup"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"train: expected {name} to be an integer >= 0, got {value!r}")
        for name in ("log_every", "lr_decay_every", "patience", "nonmono"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"train: expected {name} to be an integer >= 1, got {value!r}")
        if self.lr_schedule == "cosine" and not (self.max_steps or self.max_epochs or self.max_minutes):
            raise ValueError(
                "train: expected a budget (max_steps, max_epochs or max_minutes) for lr_schedule 'cosine' "
                "(it decays to the budget's end), got none"
            )
        return self
