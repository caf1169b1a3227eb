"""The autograd backend: the cell equations as plain PyTorch ops, one step at a time, observable.

Slow but transparent, and independent of the fused loop (no sorting, no buffers, no hand-written
gradients: autograd differentiates ``Cell.step``). Variable lengths are handled with masks here
rather than by sorting, so the tests compare two different mechanisms.

This loop is also THE observed loop: an ``Observer`` sees, per layer-direction, the input
projection and initial state, then after every step h_t, c_t (and the gates, if it asks for them).
The diagnostics (gradient flow, activations) are observers; nothing else copies this loop.
"""

from __future__ import annotations

import torch
from torch import Tensor

from rnnkit.cells import Cell
from rnnkit.layers.fused import fused_recurrence
from rnnkit.layers.sequence import zero_padding


class Observer:
    """What the reference loop reports to, for one layer-direction of one call. Hooks do nothing
    by default; ``Recurrent.observe`` hands the stack one ``StackObserver`` that makes these."""

    gates: bool = False  # ask the loop for the gate activations (``Cell.gates``) of every step
    #: Run each step through the fused Function (its hand-derived backward, one step per call)
    #: instead of ``Cell.step``.
    fused_steps: bool = False

    def begin(self, x_proj: Tensor, h0: Tensor, c0: Tensor | None, w: tuple) -> None:
        """Before step 1: x_proj (T, B, G*H) the input projection, (h0, c0) the initial state."""

    def step(self, t: int, h_new: Tensor, c_new: Tensor | None, gates: dict[str, Tensor]) -> Tensor | None:
        """After step t computed (h_new, c_new). Returns the c_t the loop carries on (c_new, or
        a copy of it whose gradient is then the cell-state path alone)."""
        return c_new

    def carried(self, h: Tensor, c: Tensor | None) -> None:
        """The state carried into step t+1 (a finished sequence keeps its last state)."""

    def end(self) -> None:
        """After the last step."""


class StackObserver:
    """What a ``Recurrent`` stack reports one call to: ``check`` before, ``layer`` per layer-direction."""

    def check(self, x, lengths) -> None:
        """Validate the call (raise ValueError for what this observer cannot trace)."""

    def layer(self, layer: int, direction: int, reverse: Tensor | None) -> Observer:
        """The observer of one layer-direction (index k = layer * dirs + direction)."""
        return Observer()


def reference_recurrence(
    cell: Cell,
    x: Tensor,
    h0: Tensor,
    c0: Tensor | None,
    w: tuple,
    lengths: Tensor | None = None,
    observer: Observer | None = None,
    regulariser=None,
) -> tuple[Tensor, Tensor, Tensor | None]:
    """One layer-direction over x (T, B, D). Returns outputs (T, B, h size), h_T, c_T or None.

    With ``lengths``, a finished sequence keeps its state and outputs zeros. ``regulariser``: a
    ``rnnkit.layers.regularise.StepRegulariser`` (recurrent dropout, zoneout) or None."""
    T = x.shape[0]
    # Padding may hold anything, NaN included; masking the state alone would not stop it: NaN
    # outputs past the end (h_new * 0) and NaN gradients (0 * NaN in the step's backward).
    x = zero_padding(x, lengths)
    x_proj = cell.project(x, w)  # (T, B, D) -> (T, B, G*H)
    if observer is not None:
        observer.begin(x_proj, h0, c0, w)
    h, c = h0, c0
    outputs = []
    for t in range(T):
        if observer is not None and observer.fused_steps:
            y, _, c_new = fused_recurrence(cell, x[t : t + 1], h, c, w)
            h_new = y[0]  # (1, B, H) -> (B, H): the output and the next step's h_{t-1}, one tensor
        elif regulariser is None:
            h_new, c_new = cell.step(x_proj[t], h, c, w)
        else:
            h_new, c_new = cell.recurrent_step(x_proj[t], h, regulariser.recurrent_input(h), c, w)
        if regulariser is not None:
            h_new, c_new = regulariser.after(h_new, c_new, h, c)
        if observer is not None:
            gates = {}
            if observer.gates:
                with torch.no_grad():
                    gates = cell.gates(x_proj[t], h, c, w)
            c_new = observer.step(t, h_new, c_new, gates)
        if lengths is None:
            h, c = h_new, c_new
            outputs.append(h)
        else:
            running = (t < lengths).unsqueeze(1)  # (B, 1)
            h = torch.where(running, h_new, h)
            if c is not None:
                c = torch.where(running, c_new, c)
            outputs.append(h_new * running)
        if observer is not None:
            observer.carried(h, c)
    if observer is not None:
        observer.end()
    return torch.stack(outputs), h, c  # (T, B, H)
