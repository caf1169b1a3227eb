"""minLSTM (Feng et al. 2024, "Were RNNs All We Needed?"): an LSTM whose gates read only the input.

Forward, for one step (x_t: (B, D), h_{t-1}: (B, H)):

    [k_f, k_i, h̃_t] = W_ih x_t + b_ih        (B, H) each: W_ih (3H, D), gate order (f, i, h)
    f_t = σ(k_f),  i_t = σ(k_i)
    f'_t = f_t / (f_t + i_t),   i'_t = i_t / (f_t + i_t) = 1 - f'_t      normalised: time-independent scale
    h_t = f'_t ⊙ h_{t-1} + i'_t ⊙ h̃_t

There is no output gate and no separate cell state: h is the state. The normalised forget gate is
computed as f'_t = σ(d_t) with d_t = log σ(k_f) - log σ(k_i), the same number, but without the
0/0 that f / (f + i) gives once both sigmoids underflow. Then a_t = f'_t, b_t = (1 - f'_t) ⊙ h̃_t
come from x_t alone: training runs the recurrence as a parallel scan (``rnnkit.layers.scan``),
generation step by step. ``forget_bias`` initialises b_f (default 1: f' starts near 0.6).

Backward, given dL/da_t and dL/db_t (the scan's backward, ``rnnkit.cells.scan_cell``):

    dL/dh̃_t = dL/db_t ⊙ (1 - f'_t)
    dL/dd_t = (dL/da_t - dL/db_t ⊙ h̃_t) ⊙ f'_t (1 - f'_t)
    dL/dk_f = dL/dd_t ⊙ (1 - f_t),   dL/dk_i = -dL/dd_t ⊙ (1 - i_t)        d log σ(k)/dk = 1 - σ(k)

and the input projection's gradients (dx, dW_ih, db_ih) as every cell's, one GEMM over all T*B.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from rnnkit.cells.base import FORGET_BIAS
from rnnkit.cells.scan_cell import ScanCell


class MinLSTMCell(ScanCell):
    name = "minlstm"
    gate_order = ("f", "i", "h")
    options = {"forget_bias": FORGET_BIAS}
    without_native, why_not_native = "a minLSTM", "torch.nn has no minLSTM"

    def coefficients(self, gates):
        k_f, k_i, h_tilde = gates
        f_n = torch.sigmoid(F.logsigmoid(k_f).sub_(F.logsigmoid(k_i)))  # f' = f / (f + i)
        i_n = 1.0 - f_n
        return f_n, i_n * h_tilde, {"f_n": f_n, "i_n": i_n}

    def coefficient_grads(self, gates, saved, d_a, d_b, d_gates):
        (k_f, k_i, h_tilde), (d_k_f, d_k_i, d_h_tilde) = gates, d_gates
        f_n, i_n = saved["f_n"], saved["i_n"]
        d_d = torch.mul(d_b, h_tilde, out=d_h_tilde).neg_().add_(d_a).mul_(f_n).mul_(i_n)  # dL/dd
        torch.sigmoid(k_f.neg(), out=d_k_f).mul_(d_d)  # dL/dd ⊙ (1 - f)
        torch.sigmoid(k_i.neg(), out=d_k_i).mul_(d_d).neg_()  # -dL/dd ⊙ (1 - i)
        torch.mul(d_b, i_n, out=d_h_tilde)

    def reference_coefficients(self, x_proj):
        k_f, k_i, h_tilde = x_proj.chunk(3, -1)
        f_n = torch.sigmoid(F.logsigmoid(k_f) - F.logsigmoid(k_i))  # f / (f + i), stably
        return f_n, (1 - f_n) * h_tilde

    def gates(self, x_proj, h, c, w):
        f_n, _ = self.reference_coefficients(x_proj)
        return {"f": f_n, "i": 1 - f_n, "h": x_proj.chunk(3, -1)[2]}  # normalised f', i'; the candidate h̃
