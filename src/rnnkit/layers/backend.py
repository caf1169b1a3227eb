"""Which backend runs a call, decided in ONE place for sequences and single steps alike.

    "fused"     our hand-derived BPTT (``rnnkit.layers.fused``), with the cell's kernel-backed
                variant (compiled CPU kernels) where it has one for the call's device and dtype.
    "autograd"  the cell's ``step`` as plain ops per step; the readable reference.
    "native"    torch.nn's kernels (cuDNN / oneDNN) on the same parameters.
    "auto"      the fastest of these for the cell and device, as measured (benchmarks/RESULTS.md).

Everything cell-specific comes from the cell's declarations (``native``, ``native_cell``,
``auto_on_cpu``) and the registry (``kernel_variant``); nothing here names a cell.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import Tensor

from rnnkit.cells import Cell, kernel_variant

BACKENDS = ("auto", "fused", "autograd", "native")


class Route(NamedTuple):
    backend: str  # "fused", "autograd" or "native"
    cell: Cell  # the cell to run: the kernel-backed variant where the fused path has one


def resolve(
    cell: Cell,
    requested: str,
    device,
    dtype=None,
    recording: bool = True,
    step: Tensor | None = None,
    observed: bool = False,
) -> Route:
    """The backend and cell for one call.

    An ``observed`` sequence (``Recurrent.observe``) runs the reference loop, which reports every
    step; where the observer asks for fused steps, they run the fused path's cell.

    A sequence (``step`` None), on ``device`` with autograd ``recording`` or not: a requested
    backend is used as asked; "auto" is "fused" where torch.nn lacks the cell, "native" off the
    CPU, and on the CPU the cell's measured ``auto_on_cpu`` (training, inference) choice.

    One step of generation (``step`` the input x_t): without autograd, "auto" and "fused" run the
    kernel-backed variant's whole step where it runs on x_t (one pass over the gates; CPU); else
    torch's one-step kernels (as nn.LSTMCell) whenever torch has them and no backend of ours was
    asked for; else the cell's ``step``. torch's sequence kernel is never stepped (it pays its setup
    cost on every token).

    Under a torch.func transform (``vmap``, ``grad``, ``jacrev``, ...) every call runs the autograd
    path, plain ops that every transform understands: the fused path's gradients come from a
    hand-written backward, and torch's RNN kernels have no batching rule. Only a requested "native"
    stays torch's (and fails as torch.nn fails).
    """
    if requested != "native" and _transformed():
        return Route("autograd", cell)
    return _resolve(cell, requested, device, dtype, recording, step, observed)


def _transformed() -> bool:
    """Whether a torch.func transform is running the current call."""
    active = getattr(torch._C, "_are_functorch_transforms_active", None)
    return bool(active is not None and active())


def _resolve(cell: Cell, requested: str, device, dtype, recording: bool, step: Tensor | None, observed: bool) -> Route:
    if step is not None:
        if requested in ("auto", "fused") and not torch.is_grad_enabled():
            variant = kernel_variant(cell, step.device, step.dtype)
            if variant is not None and step.is_contiguous():
                return Route("fused", variant)
        if requested in ("auto", "native") and cell.native_cell is not None:
            return Route("native", cell)
        return Route("autograd", cell)
    device = device if isinstance(device, torch.device) else torch.device(device)
    if observed:
        return Route("autograd", (kernel_variant(cell, device, dtype) if dtype is not None else None) or cell)
    backend = requested
    if requested == "auto":
        if cell.native is None:
            backend = "fused"
        elif device.type != "cpu":
            backend = "native"
        else:
            backend = cell.auto_on_cpu[0 if recording else 1]
    if backend == "fused" and dtype is not None:
        return Route("fused", kernel_variant(cell, device, dtype) or cell)
    return Route(backend, cell)
