"""One time step of a cell's fused path as an autograd Function, for gradcheck.

This mirrors ``rnnkit.layers.fused.FusedRecurrence`` with T = 1 (and no variable lengths), but
is written here independently so the cell tests check the cell's hand-written backward
(``forward_step`` / ``local_grads`` / ``backward_step`` / ``backward_weights``) and nothing of the layer.
"""

from __future__ import annotations

import torch
from torch import Tensor

from rnnkit.cells import Cell

from ..variants import weights


class OneStep(torch.autograd.Function):
    """(x, h_prev, c_prev, *w) -> (h_t, c_t); c_t is None without a cell state.

    Shapes: x (B, D); h_prev (B, h size), c_prev (B, H); w as the cell declares it."""

    @staticmethod
    def forward(ctx, cell: Cell, x, h_prev, c_prev, *w):
        B, D = x.shape
        a = cell.project(x, w)  # (B, G*H)
        GH = a.shape[1]
        H = GH // cell.num_gates
        h_size, c_size = cell.state_sizes(H)
        A = a.view(1, B, GH).clone()  # (T=1, B, G*H)
        H_all = x.new_zeros(2, B, h_size)
        H_all[0] = h_prev
        C_all = None
        if c_size is not None:
            C_all = x.new_zeros(2, B, c_size)
            C_all[0] = c_prev
        cache = cell.new_cache(1, B, H, x)
        cell.forward_step(
            A[0],
            H_all[0],
            None if C_all is None else C_all[0],
            H_all[1],
            None if C_all is None else C_all[1],
            {k: v[0] for k, v in cache.items()},
            cell.prepare(w),
        )
        ctx.cell = cell
        ctx.save_for_backward(x, *w)
        ctx.A, ctx.H_all, ctx.C_all, ctx.cache = A, H_all, C_all, cache
        return H_all[1].clone(), None if C_all is None else C_all[1].clone()

    @staticmethod
    def backward(ctx, d_h: Tensor | None, d_c: Tensor | None):
        cell = ctx.cell
        x, *w = ctx.saved_tensors
        A, H_all, C_all, cache = ctx.A, ctx.H_all, ctx.C_all, ctx.cache
        _, B, GH = A.shape
        d_H = H_all.new_zeros(2, B, H_all.shape[2])
        if d_h is not None:
            d_H[1] = d_h
        d_c_run = None  # in: dL/dc_t, out (after backward_step): dL/dc_{t-1}
        if C_all is not None:
            d_c_run = C_all.new_zeros(B, C_all.shape[2]) if d_c is None else d_c.clone()
        local = cell.local_grads(A, H_all, C_all, cache)
        d_ah = A.new_zeros(1, B, GH)
        local_t = {k: v[0] for k, v in local.items()}
        cache_t = {k: v[0] for k, v in cache.items()}
        cell.backward_step(d_H[1], d_c_run, d_ah[0], local_t, cache_t, cell.prepare(w), d_H[0])
        d_x, *d_w = cell.backward_weights(x[None], d_ah, d_H, H_all, local, cache, w, (True,) * (1 + len(w)))
        return None, d_x[0], d_H[0], d_c_run, *d_w


class ScanOneStep(torch.autograd.Function):
    """(x, h_prev, None, *w) -> (h_t, None) for a scan cell: h_t = a ⊙ h_prev + b, with the cell's
    ``coefficients`` forward and its ``coefficient_grads`` / ``projection_grads`` backward (the
    layers' scan is not used)."""

    @staticmethod
    def forward(ctx, cell, x, h_prev, c_prev, *w):
        gates = cell.project(x, w).chunk(cell.num_gates, -1)  # G blocks (B, H)
        a, b, saved = cell.coefficients(gates)
        ctx.cell, ctx.gates, ctx.a, ctx.saved = cell, gates, a, saved
        ctx.save_for_backward(x, h_prev, *w)
        return torch.addcmul(b, a, h_prev), None

    @staticmethod
    def backward(ctx, d_h: Tensor, d_c: None):
        cell = ctx.cell
        x, h_prev, *w = ctx.saved_tensors
        d_A = x.new_empty(cell.num_gates, 1, *d_h.shape)  # (G, T=1, B, H)
        cell.coefficient_grads(ctx.gates, ctx.saved, d_h * h_prev, d_h, d_A[:, 0].unbind(0))  # dL/da, dL/db
        d_x, *d_w = cell.projection_grads(x[None], d_A, w, (True,) * (1 + len(w)))
        return None, d_x[0], ctx.a * d_h, None, *d_w


def one_step(cell: Cell, x, h_prev, c_prev, *w) -> tuple[Tensor, ...]:
    """(h_t,) or (h_t, c_t): only tensors, as gradcheck wants."""
    h, c = (ScanOneStep if cell.scan else OneStep).apply(cell, x, h_prev, c_prev, *w)
    return (h,) if c is None else (h, c)


def reference(cell: Cell, x, h_prev, c_prev, *w) -> tuple[Tensor, ...]:
    """The same step through ``Cell.step`` (plain ops, autograd)."""
    h, c = cell.step(cell.project(x, w), h_prev, c_prev, w)
    return (h,) if c is None else (h, c)


def pre_activations(cell: Cell, x, h_prev, w_ih, w_hh, b_ih, b_hh, *_) -> Tensor:
    """a = x W_ih^T + b_ih + h W_hh^T + b_hh (B, G*H): where relu's kink matters (Elman only)."""
    a = x @ w_ih.t() + h_prev @ w_hh.t()
    return a if b_ih is None else a + b_ih + b_hh


def step_inputs(
    cell: Cell, B: int = 3, D: int = 4, H: int = 5, bias: bool = True, seed: int = 0
) -> list[Tensor | None]:
    """float64 [x, h_prev, c_prev (or None), *w], each tensor requiring grad.

    For relu, seeds are tried from ``seed`` on until every pre-activation is at least 1e-3 away
    from the kink at 0: there the finite difference straddles two slopes and gradcheck would fail
    for a reason that has nothing to do with the backward."""
    relu = cell.name == "rnn" and cell.nonlinearity == "relu"
    for s in range(seed, seed + 100):
        g = torch.Generator().manual_seed(s)

        def rand(*shape, g=g):
            return torch.randn(*shape, dtype=torch.float64, generator=g).requires_grad_()

        h_size, c_size = cell.state_sizes(H)
        x, h_prev = rand(B, D), rand(B, h_size)
        c_prev = rand(B, c_size) if c_size is not None else None
        w = weights(cell, D, H, bias=bias, generator=g)
        if relu and pre_activations(cell, x, h_prev, *w).abs().min() <= 1e-3:
            continue
        return [x, h_prev, c_prev, *w]
    raise AssertionError("no seed kept relu's pre-activations away from 0")
