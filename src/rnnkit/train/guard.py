"""The divergence guard: when a finite loss says that a run has diverged.

Two levels, each times ``explode_factor``:

    the run's reference, from the first step: the larger of the task's ``loss_floor`` (its chance
        level, e.g. log C for C classes) and the run's first training loss, taken at the initial
        weights (about the loss of a uniform prediction, log V, for a language model). A training
        or validation loss above it means weights far worse than where the run started.
    the best running mean of the training loss (an exponential mean, 0.98), after 50 steps.

Its state (``state()``) is saved in every checkpoint, so a resumed run guards exactly as the
uninterrupted one would. Non-finite losses and gradients are the trainer's own checks.
"""

from __future__ import annotations

import math


class LossGuard:
    def __init__(self, factor: float, floor: float):
        self.factor, self.floor = factor, floor
        self.smooth: float | None = None  # the running mean of the training loss
        self.lowest = math.inf  # its lowest value after 50 steps
        self.start: float | None = None  # the run's first training loss

    def state(self) -> dict:
        return {"smooth": self.smooth, "lowest": self.lowest, "start": self.start}

    def load(self, state: dict) -> None:
        """From a checkpoint's "loss_guard" (older ones lack "start": then the first loss after resuming)."""
        self.smooth, self.lowest, self.start = state.get("smooth"), state.get("lowest", math.inf), state.get("start")

    def reference(self) -> float:
        return max(self.floor, self.start if self.start is not None else 0.0)

    def train_loss(self, value: float, step: int) -> str:
        """Take the training loss of ``step``; what exploded ("" if nothing did)."""
        if self.start is None:
            self.start = value
        self.smooth = value if self.smooth is None else 0.98 * self.smooth + 0.02 * value
        if step > 50:
            self.lowest = min(self.lowest, self.smooth)
        if value > self.factor * max(self.lowest, self.floor):
            return (
                f"loss exploded to {value:.3f} at step {step} (over {self.factor:g}x its "
                f"best running mean {self.lowest:.3f})"
            )
        return self.level("loss", value, step)

    def level(self, what: str, value: float, step: int) -> str:
        """What exploded, when ``value`` (a loss named ``what``) is over the run's reference ("" if not)."""
        reference = self.reference()
        if self.start is None or value <= self.factor * reference:
            return ""
        return (
            f"{what} exploded to {value:.4g} at step {step} (over {self.factor:g}x {reference:.3f}, the larger "
            "of the chance level and the run's first loss)"
        )
