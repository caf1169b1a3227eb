"""What a resumed run may change in its [train] settings, and how each change is applied.

A resumed run restores its optimiser and learning-rate schedule from the checkpoint, and that
restored state would silently override a changed setting. So every setting given on resume is
either applied on top of the restored state or refused:

    applied   lr: replaces the schedule's current value, and the schedule continues from it;
              momentum (sgd), weight_decay: set in the restored optimiser;
              lr_decay, lr_decay_every, lr_decay_start, patience, warmup, min_lr_factor: the
              schedule continues with them from the current value (adamw's weight decay stays on
              the matrices only);
              everything read at every step: the budgets, clip_mode, clip, eval_every,
              log_every, explode_factor, device, sample_every, tensorboard.
    refused   optimizer: its state (Adam's moments, SGD's momentum buffers) is part of the run;
              another optimiser would start from nothing, which is a new run, not a resume;
              lr_schedule: one schedule's state means nothing to another;
              monitor: the best score so far is of the old metric;
              seed: the random state comes from the checkpoint;
              momentum on an optimiser that has none.
A value equal to the run's own is never refused.
"""

from __future__ import annotations

import torch

from rnnkit.train.config import TrainConfig
from rnnkit.train.optim import BudgetCosine, EpochDecay

#: Settings fixed by a run's restored state, and why (the refusal says it).
FIXED = {
    "optimizer": "its state is part of the run; another optimiser would start a new run",
    "lr_schedule": "the schedule's state is part of the run",
    "monitor": "the best score so far is of this metric",
    "seed": "the random state comes from the checkpoint",
}
#: Settings applied on top of the restored optimiser and schedule (``retune``).
RETUNED = (
    "lr",
    "momentum",
    "weight_decay",
    "lr_decay",
    "lr_decay_every",
    "lr_decay_start",
    "patience",
    "warmup",
    "min_lr_factor",
)


def check_changes(stored: TrainConfig, changes: dict) -> None:
    """Refuse, with one line, a setting in ``changes`` that a resume of the run trained with
    ``stored`` cannot honour."""
    for name, why in FIXED.items():
        if name in changes and changes[name] != getattr(stored, name):
            raise ValueError(
                f"resume: expected --{name.replace('_', '-')} {getattr(stored, name)} (the run's own: {why}), "
                f"got {changes[name]!r}"
            )
    if "momentum" in changes and stored.optimizer != "sgd" and changes["momentum"] != stored.momentum:
        raise ValueError(
            f"resume: expected no --momentum (the run's optimizer {stored.optimizer} has none; sgd has), "
            f"got {changes['momentum']!r}"
        )


def retune(optimizer: torch.optim.Optimizer, scheduler, cfg: TrainConfig, changed) -> None:
    """Apply the ``changed`` settings of ``cfg`` to a restored optimiser and schedule: the new lr
    replaces the current one, and the schedule continues from the current value."""
    changed = set(changed) & set(RETUNED)
    if not changed:
        return
    for group in optimizer.param_groups:
        if "momentum" in changed and "momentum" in group:
            group["momentum"] = cfg.momentum
        if "weight_decay" in changed and (cfg.optimizer != "adamw" or all(p.dim() >= 2 for p in group["params"])):
            group["weight_decay"] = cfg.weight_decay
        if "lr" in changed:
            group["lr"] = cfg.lr
    if isinstance(scheduler, torch.optim.lr_scheduler.StepLR):  # chainable: steps from group["lr"]
        scheduler.step_size, scheduler.gamma = cfg.lr_decay_every, cfg.lr_decay
    elif isinstance(scheduler, EpochDecay):  # closed form from base_lrs: rebased on the current lr
        scheduler.start, scheduler.gamma = cfg.lr_decay_start, cfg.lr_decay
        scheduler.rebase([group["lr"] for group in optimizer.param_groups])
    elif isinstance(scheduler, BudgetCosine):  # closed form from base_lrs, likewise
        scheduler.warmup, scheduler.min_factor = cfg.warmup, cfg.min_lr_factor
        scheduler.rebase([group["lr"] for group in optimizer.param_groups])
    elif isinstance(scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau):  # works on group["lr"]
        scheduler.factor, scheduler.patience = cfg.lr_decay, cfg.patience - 1
    if scheduler is not None and hasattr(scheduler, "_last_lr"):
        scheduler._last_lr = [group["lr"] for group in optimizer.param_groups]
