"""A run's budgets (max_steps, max_epochs, max_minutes: the first reached stops it) and its clock.

The clock counts the wall seconds of every session of a run, evaluations included: a resumed run
continues the clock where its checkpoint left it ("seconds" in the metadata), so --max-minutes is
the run's budget, not each session's, exactly as max_steps and max_epochs are. The share of the
budget spent (``progress``) is what the cosine schedule decays by (rnnkit.train.optim.BudgetCosine).
"""

from __future__ import annotations

import math
import time

from rnnkit.train.config import TrainConfig


class Budget:
    def __init__(self, cfg: TrainConfig, batches_per_epoch: int):
        self.cfg, self.per_epoch = cfg, batches_per_epoch
        self.seconds_before = 0.0  # this run's seconds in earlier sessions (from the checkpoint)
        self.started: float | None = None  # perf_counter at the start of this session

    def start(self) -> None:
        self.started = time.perf_counter()

    def seconds(self) -> float:
        """Wall seconds of training so far, every session of the run."""
        return self.seconds_before + (0.0 if self.started is None else time.perf_counter() - self.started)

    def progress(self, step: int, epochs: float) -> float:
        """The share of the budget spent after ``step`` steps and ``epochs`` epochs: the largest over
        the budgets set, in [0, 1]."""
        cfg, parts = self.cfg, [0.0]
        if cfg.max_steps:
            parts.append(step / cfg.max_steps)
        if cfg.max_epochs:
            parts.append(epochs / cfg.max_epochs)
        if cfg.max_minutes:
            parts.append(self.seconds() / (60 * cfg.max_minutes))
        return min(1.0, max(parts))

    def reached(self, step: int, epochs: float) -> str:
        """Why the run stops now ("reached max_steps=..."), or "" to go on."""
        cfg = self.cfg
        if cfg.max_steps and step >= cfg.max_steps:
            return f"reached max_steps={cfg.max_steps}"
        if cfg.max_epochs and epochs >= cfg.max_epochs:
            return f"reached max_epochs={cfg.max_epochs:g}"
        if cfg.max_minutes and self.seconds() >= 60 * cfg.max_minutes:
            return f"reached max_minutes={cfg.max_minutes:g}"
        return ""

    def total_steps(self) -> int | None:
        """The steps the run will take, where a step or epoch budget says (None: a time budget alone)."""
        cfg = self.cfg
        totals = [cfg.max_steps] if cfg.max_steps else []
        if cfg.max_epochs:
            totals.append(math.ceil(cfg.max_epochs * self.per_epoch))
        return min(totals) if totals else None
