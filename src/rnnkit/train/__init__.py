"""The model-agnostic trainer and its configuration."""

from rnnkit.train.config import TrainConfig
from rnnkit.train.metrics import MetricsLog, plot_curves
from rnnkit.train.optim import EpochDecay, clip_gradients, make_optimizer, make_scheduler
from rnnkit.train.trainer import Trainer, TrainingStopped, resolve_device, seed_everything

__all__ = [
    "EpochDecay",
    "MetricsLog",
    "TrainConfig",
    "Trainer",
    "TrainingStopped",
    "clip_gradients",
    "make_optimizer",
    "make_scheduler",
    "plot_curves",
    "resolve_device",
    "seed_everything",
]
