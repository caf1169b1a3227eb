"""Optimisers, learning-rate schedules and gradient clipping, built from a TrainConfig."""

from __future__ import annotations

import math

import torch
from torch import nn

from rnnkit.train.config import TrainConfig


def make_optimizer(params, cfg: TrainConfig) -> torch.optim.Optimizer:
    if cfg.optimizer == "adam":
        return torch.optim.Adam(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    if cfg.optimizer == "sgd":
        return torch.optim.SGD(params, lr=cfg.lr, momentum=cfg.momentum, weight_decay=cfg.weight_decay)
    if cfg.optimizer == "rmsprop":
        return torch.optim.RMSprop(params, lr=cfg.lr, alpha=0.95, weight_decay=cfg.weight_decay)
    return torch.optim.Adagrad(params, lr=cfg.lr, weight_decay=cfg.weight_decay)


class EpochDecay(torch.optim.lr_scheduler.LRScheduler):
    """Constant for ``start`` epochs, then multiplied by ``gamma`` each epoch (step once per epoch):
    lr_e = lr * gamma ** max(0, e - start + 1) for 0-based epoch e (Zaremba et al. 2014)."""

    def __init__(self, optimizer, start: int, gamma: float, last_epoch: int = -1):
        self.start, self.gamma = start, gamma
        super().__init__(optimizer, last_epoch)

    def factor(self) -> float:
        return self.gamma ** max(0, self.last_epoch - self.start + 1)

    def get_lr(self):
        factor = self.factor()
        return [base * factor for base in self.base_lrs]

    def rebase(self, lrs: list[float]) -> None:
        """Continue from ``lrs`` (the current learning rates) with the current start and gamma."""
        factor = self.factor()
        if factor > 0:
            self.base_lrs = [lr / factor for lr in lrs]


def make_scheduler(optimizer, cfg: TrainConfig):
    """(scheduler or None, when it steps: "step", "epoch" or "eval")."""
    if cfg.lr_schedule == "step":
        return torch.optim.lr_scheduler.StepLR(optimizer, cfg.lr_decay_every, cfg.lr_decay), "step"
    if cfg.lr_schedule == "epoch":
        return EpochDecay(optimizer, cfg.lr_decay_start, cfg.lr_decay), "epoch"
    if cfg.lr_schedule == "plateau":
        return torch.optim.lr_scheduler.ReduceLROnPlateau(
            optimizer, mode=cfg.monitor_mode, factor=cfg.lr_decay, patience=cfg.patience - 1
        ), "eval"
    return None, ""


def clip_gradients(model: nn.Module, cfg: TrainConfig) -> tuple[float, bool]:
    """Clip in place; returns (global gradient norm before clipping, whether clipping changed anything)."""
    params = [p for p in model.parameters() if p.grad is not None]
    norm = float(torch.nn.utils.clip_grad_norm_(params, math.inf if cfg.clip_mode != "norm" else cfg.clip))
    if cfg.clip_mode == "norm":
        return norm, norm > cfg.clip
    if cfg.clip_mode == "value":
        clipped = any(bool((p.grad.abs() > cfg.clip).any()) for p in params)
        torch.nn.utils.clip_grad_value_(params, cfg.clip)
        return norm, clipped
    return norm, False
