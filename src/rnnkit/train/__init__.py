"""The task-agnostic trainer, its configuration and the Task protocol it trains through."""

from rnnkit.train.config import TrainConfig
from rnnkit.train.interrupt import TrainingInterrupted
from rnnkit.train.metrics import MetricsLog, plot_curves
from rnnkit.train.optim import EpochDecay, clip_gradients, make_optimizer, make_scheduler
from rnnkit.train.task import Task
from rnnkit.train.trainer import TRAINER_KEYS, Trainer, TrainingStopped, resolve_device, seed_everything

__all__ = [
    "TRAINER_KEYS",
    "Task",
    "EpochDecay",
    "MetricsLog",
    "TrainConfig",
    "Trainer",
    "TrainingInterrupted",
    "TrainingStopped",
    "clip_gradients",
    "make_optimizer",
    "make_scheduler",
    "plot_curves",
    "resolve_device",
    "seed_everything",
]
