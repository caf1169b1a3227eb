"""The parallel scan: the fused backend of the cells whose recurrence is linear in h (minGRU, minLSTM).

A scan cell's step is h_t = a_t ⊙ h_{t-1} + b_t with (a_t, b_t) from x_t alone
(``rnnkit.cells.scan_cell``). Forward, for one layer-direction:

    1. A = x W_ih^T + b_ih for all steps, gate-major (G, T*B, H): G GEMMs (T*B, D) @ (D, H).
    2. (a, b) = the cell's ``coefficients`` of A's gate blocks, for all steps at once.
    3. h_1..h_T = ``linear_scan(a, b, h_0)``: no GEMM inside the recurrence.

Backward (the scan's backward is a scan, in reverse):

    1. δ = ``linear_scan`` of (a_{t+1}, g_t) from t = T down to 1: δ_t = g_t + a_{t+1} ⊙ δ_{t+1}
    2. dL/da_t = δ_t ⊙ h_{t-1}, dL/db_t = δ_t, dL/dh_0 = a_1 ⊙ δ_1
    3. the cell's ``coefficient_grads``, then the projection's dx, dW_ih, db_ih: GEMMs over all T*B rows.

``linear_scan`` is a chunked scan. The T steps are cut into K chunks of C ~ sqrt(T) steps. Every
chunk is scanned at once from a zero state (C vectorised steps, each over all K chunks), keeping
only its end state and the product of its a's; the states entering the chunks are then a scan of
K steps (the same function: chunked again when K is large); a second pass over every chunk at once
from its entering state writes every h_t. About 2 sqrt(T) vectorised operations (each over T/C
rows) instead of T, and numerically the recurrence itself: products and sums of the a's and b's,
no division and no logarithm (a log-space scan needs b > 0 and its cumulative sums grow with T).

Variable lengths: rows are sorted by length (the fused path's convention) and a finished row gets
a = 1, b = 0, so it keeps its last state, which is then h_T; its outputs there are zeroed.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from rnnkit.layers.fused import _active_mask, _batched, _differentiable_grads, _last_steps

#: Below this many steps a scan runs step by step (a chunk's bookkeeping costs more than it saves).
SEQUENTIAL_BELOW = 16


def linear_scan(a: Tensor, b: Tensor, h0: Tensor, out: Tensor | None = None) -> Tensor:
    """h_t = a_t ⊙ h_{t-1} + b_t for t = 1..T: a, b (T, ...) of any strides, h0 (...) -> h_1..h_T
    (T, ...), written into ``out`` if given."""
    T = a.shape[0]
    out = torch.empty_like(b) if out is None else out
    if T < SEQUENTIAL_BELOW:
        return _sequential(a, b, h0, out, 0)
    C = math.isqrt(T)  # chunk length
    K = T // C  # chunks; the last T - K*C steps (fewer than C) run after them, step by step
    n = K * C
    a_k, b_k = a[:n].unflatten(0, (K, C)), b[:n].unflatten(0, (K, C))  # views (K, C, ...)
    # 1. every chunk at once: its end state from a zero start, and the product of its a's
    end, prod = b_k[:, 0].clone(), a_k[:, 0].clone()
    for j in range(1, C):
        end = torch.addcmul(b_k[:, j], a_k[:, j], end)
        prod.mul_(a_k[:, j])
    # 2. the state entering each chunk: a linear scan itself, of K steps
    starts = torch.empty_like(end)
    starts[0] = h0
    if K > 1:
        linear_scan(prod[:-1], end[:-1], h0, out=starts[1:])
    # 3. every chunk at once again, from its entering state: every step's h
    out_k = out[:n].unflatten(0, (K, C))
    torch.addcmul(b_k[:, 0], a_k[:, 0], starts, out=out_k[:, 0])
    for j in range(1, C):
        torch.addcmul(b_k[:, j], a_k[:, j], out_k[:, j - 1], out=out_k[:, j])
    return _sequential(a, b, out[n - 1], out, n)


def _sequential(a: Tensor, b: Tensor, h: Tensor, out: Tensor, start: int) -> Tensor:
    """Steps start..T-1 of the scan one at a time, from h (the state before step ``start``)."""
    for t in range(start, a.shape[0]):
        h = torch.addcmul(b[t], a[t], h, out=out[t])
    return out


def reverse_linear_scan(a: Tensor, g: Tensor, g_last: Tensor | None = None) -> Tensor:
    """δ_t = g_t + a_{t+1} ⊙ δ_{t+1} for t = T..1 (δ_T = g_T, plus ``g_last`` if given): the
    backward of ``linear_scan``, run as one on the time-reversed arrays (a_r = a flipped:
    δ_r[i] = g_r[i] + a_r[i-1] ⊙ δ_r[i-1])."""
    g_r = g.flip(0)  # a copy: the buffer the scan reads
    if g_last is not None:
        g_r[0] += g_last
    d_r = torch.empty_like(g_r)
    d_r[0] = g_r[0]
    if g.shape[0] > 1:
        linear_scan(a.flip(0)[:-1], g_r[1:], d_r[0], out=d_r[1:])
    return d_r.flip(0)


class ScanRecurrence(torch.autograd.Function):
    """(x, h0, c0=None, *w) -> (Y, h_n, None), time-major, as ``FusedRecurrence`` (same arguments,
    same conventions for lengths), for a scan cell."""

    @staticmethod
    def forward(ctx, cell, batch_sizes: list[int] | None, x: Tensor, h0: Tensor, c0: None, *w):
        T, B, D = x.shape
        A = cell.project_gates(x.reshape(T * B, D), w)  # (G, T*B, H): every step at once
        A = A.view(A.shape[0], T, B, -1)  # G blocks (T, B, H)
        active = None if batch_sizes is None else _active_mask(batch_sizes, B, x.device, x.dtype)  # (T, B, 1)
        H_all = x.new_empty(T + 1, B, A.shape[3])  # h_0 .. h_T
        H_all[0] = h0
        a = saved = limits = None
        if cell.whole_sequence:  # the compiled kernel: coefficients and scan in one pass
            if batch_sizes is not None:
                limits = torch.tensor(batch_sizes, dtype=torch.int64) * A.shape[3]  # units running per step
            cell.scan_forward(A, H_all, limits)
        else:
            a, b, saved = cell.coefficients(A.unbind(0))  # (T, B, H) each
            if active is not None:  # finished rows: a = 1, b = 0 (they keep h)
                a, b = a * active + (1.0 - active), b * active
            linear_scan(a, b, h0, out=H_all[1:])
        Y = H_all[1:] if active is None else H_all[1:] * active
        ctx.cell, ctx.last = cell, _last_steps(batch_sizes, T, B, x.device)
        ctx.save_for_backward(x, h0, c0, *w)
        ctx.A, ctx.a, ctx.H_all, ctx.saved, ctx.active, ctx.limits = A, a, H_all, saved, active, limits
        return Y, H_all[T].clone(), None

    @staticmethod
    def backward(ctx, d_Y: Tensor | None, d_h_n: Tensor | None, d_c_n: None):
        if torch.is_grad_enabled() or _batched(d_Y, d_h_n):
            return _differentiable_grads(ctx, d_Y, d_h_n, None)  # as FusedRecurrence
        x, h0, _, *w = ctx.saved_tensors
        cell, A, a, H_all, active = ctx.cell, ctx.A, ctx.a, ctx.H_all, ctx.active
        d_A = torch.empty_like(A)  # (G, T, B, H)
        if d_Y is None:
            d_Y = torch.zeros_like(H_all[1:])
        if cell.whole_sequence:  # reads d_Y on running rows only
            d_h0 = torch.empty_like(h0)
            d_h_n = None if d_h_n is None else d_h_n.contiguous()
            cell.scan_backward(A, H_all, d_Y.contiguous(), d_h_n, d_A, d_h0, ctx.limits)
        else:
            if active is not None:
                d_Y = d_Y * active  # outputs past a sequence's end are constant zeros
            delta = reverse_linear_scan(a, d_Y, d_h_n)  # δ_t = dL/dh_t, every path; h_n is h_T
            d_a = delta * H_all[:-1]  # δ_t ⊙ h_{t-1}
            d_h0 = a[0] * delta[0]
            d_b = delta
            if active is not None:  # a and b are constants on finished rows
                d_a.mul_(active)
                d_b = delta.mul_(active)
            cell.coefficient_grads(A.unbind(0), ctx.saved, d_a, d_b, d_A.unbind(0))
        need = ctx.needs_input_grad  # (cell, batch_sizes, x, h0, c0, *w)
        d_x, *d_w = cell.projection_grads(x, d_A, w, (need[2], *need[5:]))
        return None, None, d_x, d_h0, None, *d_w


def scan_recurrence(cell, x: Tensor, h0: Tensor, c0, w: tuple, batch_sizes: list[int] | None = None):
    """Run one layer-direction of a scan cell: (Y, h_n, None). See ``ScanRecurrence``."""
    return ScanRecurrence.apply(cell, batch_sizes, x, h0, c0, *w)
