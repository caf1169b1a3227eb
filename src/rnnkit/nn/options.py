"""The keyword-only options the drop-ins add to torch.nn's constructors, and their initialisation rule.

    backend         "auto" (default), "fused", "autograd" or "native": as ``rnnkit.layers`` (for a
                    cell, one step: ``rnnkit.layers.backend.resolve(..., step=x)``)
    reset_after     GRU only. True (default): torch.nn's/cuDNN's form; False: the original GRU, r_t
                    applied to h_{t-1} before W_hn (no torch.nn kernel: rnnkit's backends run it)
    forget_bias     LSTM only. None (default): torch.nn's initialisation; a number: rnnkit's
    recurrent_init  None (default): torch.nn's initialisation; "orthogonal" or "uniform": rnnkit's

The initialisation rule: with ``forget_bias`` and ``recurrent_init`` both None, a drop-in draws its
weights exactly as torch.nn does (every parameter U(-1/sqrt(H), 1/sqrt(H)), the same draws from the
same generator), so a swapped import trains the same. Giving either selects rnnkit's scheme
(``rnnkit.cells.base.Cell.reset_``: orthogonal W_hh blocks, zero biases, the LSTM's forget-gate bias
1), with the value given and rnnkit's default for the other (``recurrent_init="orthogonal"``,
``forget_bias=1.0``): ``rnnkit.nn.LSTM(10, 20, forget_bias=1.0)`` is initialised as
``rnnkit.layers.LSTM(10, 20)``.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from rnnkit.cells import FORGET_BIAS
from rnnkit.config import is_real
from rnnkit.layers import BACKENDS

RECURRENT_INITS = ("orthogonal", "uniform")


@dataclass(frozen=True)
class Options:
    """rnnkit's options of one drop-in module (validated; see the module docstring)."""

    backend: str = "auto"
    reset_after: bool = True
    forget_bias: float | None = None
    recurrent_init: str | None = None

    def __post_init__(self):
        if self.backend not in BACKENDS:
            raise ValueError(f"backend: expected one of {BACKENDS}, got {self.backend!r}")
        if not isinstance(self.reset_after, bool):
            raise TypeError(f"reset_after: expected a bool, got {type(self.reset_after).__name__}")
        if self.forget_bias is not None and not is_real(self.forget_bias):
            raise ValueError(f"forget_bias: expected None or a finite number, got {self.forget_bias!r}")
        if self.recurrent_init is not None and self.recurrent_init not in RECURRENT_INITS:
            raise ValueError(f"recurrent_init: expected None or one of {RECURRENT_INITS}, got {self.recurrent_init!r}")

    @property
    def rnnkit_init(self) -> bool:
        """Whether rnnkit's initialisation scheme is asked for (else torch.nn's)."""
        return self.forget_bias is not None or self.recurrent_init is not None

    def init_kwargs(self) -> dict:
        """``Cell.reset_``'s keyword arguments under rnnkit's scheme."""
        return {
            "recurrent_init": self.recurrent_init or "orthogonal",
            "forget_bias": FORGET_BIAS if self.forget_bias is None else float(self.forget_bias),
        }

    def extra_repr(self) -> str:
        """The options that differ from the defaults, as ``key=value`` pairs after torch.nn's repr."""
        parts = [f"{f.name}={getattr(self, f.name)!r}" for f in fields(self) if getattr(self, f.name) != f.default]
        return "".join(", " + p for p in parts)
