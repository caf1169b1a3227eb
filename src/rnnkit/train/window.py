"""One log interval's running sums: what a metrics.jsonl "train" record is made of.

Every step adds its loss (weighted by its units: tokens, examples), its gradient norm before
clipping and whether it was clipped; every ``log_every`` steps the trainer turns the sums into a
record and starts a new interval. A checkpoint taken in the middle of an interval (a Ctrl-C, an
evaluation at a step that is no multiple of ``log_every``) stores the sums (``state()``, the
checkpoint's "window"), so the resumed run's next record is the uninterrupted run's, number for
number. Only the wall clock (``tokens_per_s``) differs: it counts the units since the clock last
started (the interval's start, or the resume), so the state holds no wall time and two equal runs
write equal checkpoints.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

from rnnkit.checkpoint import CheckpointError


@dataclass
class Window:
    loss: float = 0.0  # sum of loss x units
    units: int = 0
    norm: float = 0.0  # the largest gradient norm
    clipped: int = 0
    steps: int = 0
    norms: list[float] = field(default_factory=list)  # every step's gradient norm (6 significant digits)
    clipped_steps: list[int] = field(default_factory=list)
    timed: int = 0  # the units since the clock started
    started: float = field(default_factory=time.perf_counter)

    def add(self, step: int, loss: float, units: int, norm: float, clipped: bool) -> None:
        self.loss += loss * units
        self.units += units
        self.timed += units
        self.norm = max(self.norm, norm)
        self.clipped += int(clipped)
        self.steps += 1
        self.norms.append(float(f"{norm:.6g}"))
        if clipped:
            self.clipped_steps.append(step)

    def restart_clock(self) -> None:
        """At the start of a fit: time from now on."""
        self.started, self.timed = time.perf_counter(), 0

    def record(self, step: int, epoch: float, lr: float, elapsed_s: float) -> dict:
        """The "train" record of the interval ending at ``step``."""
        return {
            "kind": "train",
            "step": step,
            "epoch": epoch,
            "train_loss": self.loss / self.units,
            "grad_norm": self.norm,
            "clipped": self.clipped,
            "grad_norms": self.norms,
            "clipped_steps": self.clipped_steps,
            "lr": lr,
            "tokens_per_s": self.timed / max(time.perf_counter() - self.started, 1e-9),
            "elapsed_s": elapsed_s,
        }

    def state(self) -> dict:
        """The sums, for a checkpoint's metadata (JSON: floats round-trip exactly)."""
        return {
            "loss": self.loss,
            "units": self.units,
            "norm": self.norm,
            "clipped": self.clipped,
            "steps": self.steps,
            "norms": list(self.norms),
            "clipped_steps": list(self.clipped_steps),
        }

    @classmethod
    def from_state(cls, state, where) -> Window:
        """The window a checkpoint stored (``None``: an empty one). Checked: a checkpoint is untrusted."""
        if state is None:
            return cls()
        counts = ("units", "clipped", "steps")
        numbers = ("loss", "norm")
        ok = (
            isinstance(state, dict)
            and set(state) == {*counts, *numbers, "norms", "clipped_steps"}
            and all(_count(state[k]) for k in counts)
            and all(_real(state[k]) for k in numbers)
            and isinstance(state["norms"], list)
            and all(_real(v) for v in state["norms"])
            and isinstance(state["clipped_steps"], list)
            and all(_count(v) for v in state["clipped_steps"])
            and len(state["norms"]) == state["steps"]
        )
        if not ok:
            raise CheckpointError(
                f"checkpoint: {where}: window is {state!r:.80}; expected the sums of a log interval "
                "(loss, units, norm, clipped, steps, norms, clipped_steps)"
            )
        return cls(**state)


def _count(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and v >= 0


def _real(v) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
