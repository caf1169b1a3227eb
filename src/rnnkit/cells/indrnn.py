"""Independently recurrent neural network, IndRNN (Li et al. 2018, "Independently Recurrent Neural
Network (IndRNN): Building A Longer and Deeper RNN").

Forward, for one step (x_t: (B, D), h_{t-1}: (B, H); u: (H,), one recurrent weight per unit):

    a_t = W_ih x_t + b_ih + b_hh + ū ⊙ h_{t-1}
    h_t = relu(a_t)
    ū   = clip(u, -m, m)          m = ``recurrent_max`` (0: no bound, ū = u)

Each unit sees only its own past (the recurrence is element-wise), so the gradient through time of
unit j is the product over steps of ū_j · relu'(a_t,j): it neither vanishes nor explodes over T
steps when |ū_j| <= γ^(1/T) for a γ the user picks (the paper's constraint; ``recurrent_max`` =
γ^(1/T)). Depth, not width of the recurrence, then carries the mixing between units.

Backward, given d_h = dL/dh_t (from the output and from step t+1):

    d_a = d_h ⊙ [h_t > 0]                      relu'(a_t) = [a_t > 0] = [h_t > 0]
    dL/dh_{t-1} = d_a ⊙ ū
    dL/du = Σ_t Σ_b d_a ⊙ h_{t-1}, zero where the clip is active (|u_j| > m)
    dL/dW_ih = Σ d_a^T x_t,   dL/db_ih = dL/db_hh = Σ d_a

The clip is where ū enters the step, so gradients see the bounded weight. (The paper clips the
stored weight after each update instead; a weight held by the clip here gets no gradient until
the others move it back. Init draws u inside the bound.)
"""

from __future__ import annotations

import math

import torch

from rnnkit.cells.base import Cell, Param
from rnnkit.config import is_real


class IndRNNCell(Cell):
    name = "indrnn"
    gate_order = ("h",)
    options = {"recurrent_max": 0.0}
    h_range = "free"
    without_native, why_not_native = "an IndRNN", "torch.nn has no IndRNN"

    def __init__(self, recurrent_max: float = 0.0):
        if isinstance(recurrent_max, bool) or not is_real(recurrent_max) or recurrent_max < 0:
            raise ValueError(f"recurrent_max: expected a finite number >= 0 (0: no bound), got {recurrent_max!r}")
        self.recurrent_max = float(recurrent_max)

    @classmethod
    def from_options(cls, options):
        return cls(options.recurrent_max)

    @classmethod
    def variants(cls):
        return {"indrnn": {"cell": "indrnn"}, "indrnn_bounded": {"cell": "indrnn", "recurrent_max": 0.9}}

    def parameters(self, D, H):
        return (
            Param("weight_ih", (H, D)),
            Param("weight_hh", (H,)),  # u: one recurrent weight per unit
            Param("bias_ih", (H,), bias=True),
            Param("bias_hh", (H,), bias=True),
        )

    def reset_(self, w, recurrent_init="orthogonal", forget_bias=1.0):
        """W_ih ~ U(-1/sqrt(H), 1/sqrt(H)); u ~ U(0, r), r = ``recurrent_max`` or 1 (the paper's
        U(0, 1) for relu, inside the bound); biases 0. ``recurrent_init`` has no meaning for a
        diagonal recurrence and is ignored."""
        w_ih, u, b_ih, b_hh = w[:4]
        bound = 1.0 / math.sqrt(u.shape[0])
        with torch.no_grad():
            w_ih.uniform_(-bound, bound)
            u.uniform_(0.0, self.recurrent_max or 1.0)
            if b_ih is not None:
                b_ih.zero_()
                b_hh.zero_()

    def _u(self, w):
        u = w[1]
        return u.clamp(-self.recurrent_max, self.recurrent_max) if self.recurrent_max else u

    # ----- reference path -----------------------------------------------------------------------
    def step(self, x_proj, h, c, w):
        return torch.relu(torch.addcmul(x_proj, self._u(w), h)), None  # (B, H)

    # ----- fused path ---------------------------------------------------------------------------
    def prepare(self, w):
        return (self._u(w),)

    def forward_step(self, a, h_prev, c_prev, h, c, cache, prep):
        a.addcmul_(h_prev, prep[0])  # a_t = W_ih x_t + b + ū ⊙ h_{t-1}
        torch.clamp_min(a, 0.0, out=h)

    def local_grads(self, A, H_all, C_all, cache):
        return {"P": (H_all[1:] > 0).to(H_all.dtype)}  # relu'(a_t), (T, B, H)

    def backward_step(self, d_h, d_c, d_ah, local, cache, prep, d_h_prev):
        torch.mul(d_h, local["P"], out=d_ah)  # d_a = d_h relu'(a_t)
        d_h_prev.addcmul_(d_ah, prep[0])  # dL/dh_{t-1} += d_a ⊙ ū

    def weight_hh_grad(self, d_ah, H_prev, cache):
        return (d_ah * H_prev).sum((0, 1))  # dL/dū = Σ_t Σ_b d_a ⊙ h_{t-1}, (H,)

    def backward_weights(self, x, d_ah, d_H, H_all, local, cache, w, need):
        d_x, d_w_ih, d_u, d_b_ih, d_b_hh = super().backward_weights(x, d_ah, d_H, H_all, local, cache, w, need)
        if d_u is not None and self.recurrent_max:  # clip's gradient: 1 inside [-m, m], 0 outside
            m, u = self.recurrent_max, w[1]
            d_u = d_u * ((u >= -m) & (u <= m)).to(d_u.dtype)
        return d_x, d_w_ih, d_u, d_b_ih, d_b_hh
