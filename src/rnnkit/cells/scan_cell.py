"""The protocol of the cells whose recurrence is linear in h: what the parallel scan needs.

A *scan cell* (minGRU, minLSTM) computes its gates from the input alone, so one step is

    h_t = a_t ⊙ h_{t-1} + b_t,        (a_t, b_t) = coefficients(x_proj_t)

with no matrix between h_{t-1} and h_t. All T pairs (a_t, b_t) come out of one vectorised pass
over the input projection, and the recurrence itself is a linear scan that needs no per-step
GEMM: ``rnnkit.layers.scan`` runs it in chunks, in parallel across them. Its backward is a
linear scan too, in reverse:

    δ_t = dL/dh_t (all paths) = g_t + a_{t+1} ⊙ δ_{t+1}          (g_t: from the output at t)
    dL/da_t = δ_t ⊙ h_{t-1},   dL/db_t = δ_t,   dL/dh_0 = a_1 ⊙ δ_1

so a scan cell provides only the map x_proj -> (a, b) (``coefficients``, for all steps at once)
and its hand-derived backward (``coefficient_grads``: dL/da, dL/db -> dL/dx_proj); ``step`` is the
same map in plain ops, for the autograd reference and for generation, one step at a time.

Parameters: W_ih (G*H, D) and b_ih (G*H,), registered under torch.nn's names; there is no W_hh.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from rnnkit.cells.base import Cell, Param


class ScanCell(Cell):
    """A cell with h_t = a_t ⊙ h_{t-1} + b_t, (a_t, b_t) from x_t alone (see the module docstring)."""

    scan = True
    h_range = "free"
    #: The kernel-backed variant runs the whole sequence (``scan_forward`` / ``scan_backward``).
    whole_sequence = False

    def parameters(self, D, H):
        return Param("weight_ih", (self.num_gates * H, D)), Param("bias_ih", (self.num_gates * H,), bias=True)

    def biases(self, w: tuple) -> tuple:
        return (w[1],)

    def input_bias(self, w):
        return w[1]

    def reset_(self, w, recurrent_init="orthogonal", forget_bias=1.0):
        """W_ih ~ U(-1/sqrt(H), 1/sqrt(H)); b_ih 0 but a forget gate's, ``forget_bias``.
        ``recurrent_init`` has no meaning without recurrent weights and is ignored."""
        w_ih, b_ih = w
        H = w_ih.shape[0] // self.num_gates
        bound = 1.0 / math.sqrt(H)
        with torch.no_grad():
            w_ih.uniform_(-bound, bound)
            if b_ih is not None:
                b_ih.zero_()
                if "f" in self.gate_order:
                    f = self.gate_order.index("f")
                    b_ih[f * H : (f + 1) * H] = forget_bias

    # ----- what each scan cell provides ---------------------------------------------------------
    def coefficients(self, gates: tuple[Tensor, ...]) -> tuple[Tensor, Tensor, dict]:
        """The input projection's G gate blocks, each (..., H) -> (a, b, saved): a, b (..., H) in
        fresh tensors, without autograd; ``saved`` what ``coefficient_grads`` reuses."""
        raise NotImplementedError

    def coefficient_grads(self, gates: tuple, saved: dict, d_a: Tensor, d_b: Tensor, d_gates: tuple) -> None:
        """dL/da, dL/db (..., H) -> dL/d(each gate block), written into ``d_gates`` (G tensors
        (..., H)), by hand."""
        raise NotImplementedError

    def reference_coefficients(self, x_proj: Tensor) -> tuple[Tensor, Tensor]:
        """(a, b) from x_proj (..., G*H) in plain differentiable ops: what autograd differentiates."""
        raise NotImplementedError

    # ----- the fused path's projection, gate-major ----------------------------------------------
    def project_gates(self, x: Tensor, w: tuple) -> Tensor:
        """x (N, D) -> (G, N, H): the input projection with each gate block contiguous (G GEMMs
        of (N, D) @ (D, H); on a CPU no slower than the one (N, D) @ (D, G*H), and every
        elementwise op after it then runs on contiguous memory, ~3x faster than on column blocks)."""
        w_ih, b_ih = w
        G, N = self.num_gates, x.shape[0]
        H = w_ih.shape[0] // G
        A = x.new_empty(G, N, H)
        for g in range(G):
            rows = slice(g * H, (g + 1) * H)
            if b_ih is None:
                torch.mm(x, w_ih[rows].t(), out=A[g])
            else:
                torch.addmm(b_ih[rows], x, w_ih[rows].t(), out=A[g])
        return A

    def projection_grads(self, x: Tensor, d_A: Tensor, w: tuple, need: tuple) -> tuple:
        """dL/d(projection) (G, T, B, H) -> (dx, dW_ih, db_ih), GEMMs over all T*B rows per gate
        block; ``need[0]`` for dx, ``need[1:]`` per parameter."""
        w_ih, b_ih = w
        T, B, D = x.shape
        G, H = self.num_gates, d_A.shape[-1]
        d_A = d_A.view(G, T * B, H)
        x2 = x.reshape(T * B, D)
        d_x = d_w_ih = d_b_ih = None
        if need[0]:
            d_x = d_A[0] @ w_ih[:H]  # (T*B, H) @ (H, D), accumulated over the gate blocks
            for g in range(1, G):
                d_x.addmm_(d_A[g], w_ih[g * H : (g + 1) * H])
            d_x = d_x.view(T, B, D)
        if need[1]:
            d_w_ih = w_ih.new_empty(w_ih.shape)
            for g in range(G):
                torch.mm(d_A[g].t(), x2, out=d_w_ih[g * H : (g + 1) * H])  # (H, T*B) @ (T*B, D)
        if b_ih is not None and need[2]:
            d_b_ih = d_A.sum(1).view(G * H)
        return d_x, d_w_ih, d_b_ih

    def inference_step(self, x, h_prev, c_prev, h, c, w, bias=None):
        a, b, _ = self.coefficients(self.project(x, w, bias).chunk(self.num_gates, -1))
        torch.addcmul(b, a, h_prev, out=h)

    # ----- reference path -----------------------------------------------------------------------
    def step(self, x_proj, h, c, w):
        a, b = self.reference_coefficients(x_proj)
        return torch.addcmul(b, a, h), None  # h_t = a_t ⊙ h_{t-1} + b_t
