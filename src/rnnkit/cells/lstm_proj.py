"""LSTM with a recurrent projection (Sak, Senior & Beaufays 2014): torch.nn's ``LSTM(proj_size=P)``.

The LSTM's output m_t = o_t * tanh(c_t) (size H) is projected down to h_t (size P < H), which is both
the layer's output and what the next step's gates read; the cell state c_t keeps size H. Forward,
for one step (x_t: (B, D), h_{t-1}: (B, P), c_{t-1}: (B, H)):

    a = W_ih x_t + b_ih + W_hh h_{t-1} + b_hh          (B, 4H); W_hh is (4H, P)
    i, f, o = sigmoid(a_i), sigmoid(a_f), sigmoid(a_o)     g = tanh(a_g)
    c_t = f_t * c_{t-1} + i_t * g_t
    m_t = o_t * tanh(c_t)                               (B, H)
    h_t = m_t W_hr^T                                    (B, P); W_hr is (P, H), weight_hr_l{k}

Backward, given d_h = dL/dh_t (from the output and from step t+1) and d_c = dL/dc_t from step t+1:

    d_m   = d_h W_hr                                    (B, P) @ (P, H)
    then the LSTM's backward with d_m in the place of its d_h:
    d_c  += d_m * o_t * (1 - tanh(c_t)^2)
    d_o   = d_m * tanh(c_t) * o_t (1 - o_t)
    d_i   = d_c * g_t * i_t (1 - i_t)      d_f = d_c * c_{t-1} * f_t (1 - f_t)      d_g = d_c * i_t (1 - g_t^2)
    dL/dc_{t-1} = d_c * f_t               dL/dh_{t-1} = [d_i, d_f, d_g, d_o] W_hh   (B, P)
    dL/dW_hr = sum_t d_h_t^T m_t          ONE GEMM over all T*B rows, after the loop

So the step is the LSTM's (``LSTMCell``), with one GEMM more each way per step. The parameters
and their order are torch.nn's: weight_ih, weight_hh, bias_ih, bias_hh, weight_hr.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from rnnkit.cells.base import Param, init_recurrent_
from rnnkit.cells.lstm import LSTMCell


class ProjLSTMCell(LSTMCell):
    selected_by = "proj_size"  # RecurrentConfig(cell="lstm", proj_size=P > 0) selects this cell
    options, torch_options = {**LSTMCell.options, "proj_size": 0}, ("proj_size",)
    native_cell = None  # torch has no projecting one-step kernel: the step API runs ``step``
    h_range = "free"  # h_t = W_hr m_t is not bounded
    #: oneDNN has no projecting LSTM (torch falls back to its plain kernel on the CPU): our fused
    #: loop trains 1.15-1.68x and infers 1.06-1.28x torch.nn (benchmarks/RESULTS.md)
    auto_on_cpu = ("fused", "fused")

    def __init__(self, proj_size: int):
        self.proj_size = proj_size  # P

    @classmethod
    def from_options(cls, options):
        P, H = options.proj_size, getattr(options, "hidden_size", None)
        if isinstance(P, bool) or not isinstance(P, int) or not 0 <= P < (P + 1 if H is None else H):
            raise ValueError(f"proj_size: expected 0 (none) or an integer in [1, hidden_size={H}), got {P!r}")
        return cls(P)

    @classmethod
    def variants(cls):
        return {"lstm_proj": {"cell": "lstm", "proj_size": 2}}

    # ----- parameters ---------------------------------------------------------------------------
    def state_sizes(self, H):
        return self.proj_size, H

    def parameters(self, D, H):
        return super().parameters(D, H) + (Param("weight_hr", (self.proj_size, H)),)

    def reset_(self, w, recurrent_init="orthogonal", forget_bias=1.0):
        """The LSTM's initialisation, then W_hr like a recurrent block (orthogonal or uniform)."""
        super().reset_(w, recurrent_init, forget_bias)
        w_hr = w[4]
        with torch.no_grad():
            init_recurrent_(w_hr.unsqueeze(0), recurrent_init, 1.0 / w_hr.shape[1] ** 0.5)

    # ----- reference path -----------------------------------------------------------------------
    def step(self, x_proj, h, c, w):
        m, c = super().step(x_proj, h, c, w)  # m_t = o tanh(c_t)   (B, H)
        return F.linear(m, w[4]), c  # h_t = m_t W_hr^T   (B, P)

    # ----- fused path ---------------------------------------------------------------------------
    def prepare(self, w):
        return w[1], w[1].t(), w[3], w[4], w[4].t()  # W_hh, W_hh^T, b_hh, W_hr, W_hr^T

    def new_cache(self, T, B, H, like):
        # m is zeroed, not merely allocated: rows of finished sequences are never written, yet
        # dW_hr's one GEMM reads every row (times a zero gradient), and 0 * NaN = NaN.
        return {**super().new_cache(T, B, H, like), "m": like.new_zeros(T, B, H)}

    def forward_step(self, a, h_prev, c_prev, h, c, cache, prep):
        m = cache["m"]
        super().forward_step(a, h_prev, c_prev, m, c, cache, prep)  # the LSTM step, its h_t into m_t
        torch.mm(m, prep[4], out=h)  # h_t = m_t W_hr^T   (B, H) @ (H, P)

    def local_grads(self, A, H_all, C_all, cache):
        T, B, GH = A.shape
        return {**super().local_grads(A, H_all, C_all, cache), "d_m": A.new_empty(T, B, GH // 4)}

    def backward_step(self, d_h, d_c, d_ah, local, cache, prep, d_h_prev):
        d_m = torch.mm(d_h, prep[3], out=local["d_m"])  # d_m = d_h W_hr   (B, P) @ (P, H)
        super().backward_step(d_m, d_c, d_ah, local, cache, prep, d_h_prev)

    def backward_weights(self, x, d_ah, d_H, H_all, local, cache, w, need):
        grads = super().backward_weights(x, d_ah, d_H, H_all, local, cache, w, need)
        d_w_hr = None
        if need[5]:
            P, H = w[4].shape
            d_w_hr = d_H[1:].reshape(-1, P).t() @ cache["m"].reshape(-1, H)  # (P, T*B) @ (T*B, H)
        return (*grads, d_w_hr)
