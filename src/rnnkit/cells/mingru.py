"""minGRU (Feng et al. 2024, "Were RNNs All We Needed?"): a GRU whose gate reads only the input.

Forward, for one step (x_t: (B, D), h_{t-1}: (B, H)):

    [k_t, h̃_t] = W_ih x_t + b_ih            k_t, h̃_t (B, H) each: W_ih (2H, D), gate order (z, h)
    z_t = σ(k_t)                             the update gate
    h_t = (1 - z_t) ⊙ h_{t-1} + z_t ⊙ h̃_t

The GRU's reset gate and the h_{t-1} inside both its gates are gone, so h_t = a_t ⊙ h_{t-1} + b_t
with a_t = 1 - z_t = σ(-k_t) and b_t = z_t ⊙ h̃_t from x_t alone: training runs the recurrence as
a parallel scan (``rnnkit.layers.scan``), generation step by step. The candidate h̃_t is linear in
x_t, as in the paper (its log-space variant, which needs h̃ > 0, is not this one: the chunked scan
needs no logarithms). Non-linearity comes from the gate and from depth; stack layers.

Backward, given dL/da_t and dL/db_t (the scan's backward, ``rnnkit.cells.scan_cell``):

    dL/dh̃_t = dL/db_t ⊙ z_t
    dL/dk_t = (dL/db_t ⊙ h̃_t - dL/da_t) ⊙ z_t (1 - z_t)          σ' = σ (1 - σ); da/dz = -1

and the input projection's gradients (dx, dW_ih, db_ih) as every cell's, one GEMM over all T*B.
"""

from __future__ import annotations

import torch

from rnnkit.cells.scan_cell import ScanCell


class MinGRUCell(ScanCell):
    name = "mingru"
    gate_order = ("z", "h")
    without_native, why_not_native = "a minGRU", "torch.nn has no minGRU"

    def coefficients(self, gates):
        k, h_tilde = gates
        a = torch.sigmoid(-k)  # 1 - z, without the cancellation of 1 - σ(k) near z = 1
        z = 1.0 - a
        return a, z * h_tilde, {"z": z, "a": a}

    def coefficient_grads(self, gates, saved, d_a, d_b, d_gates):
        h_tilde, (d_k, d_h_tilde) = gates[1], d_gates
        z, a = saved["z"], saved["a"]
        torch.mul(d_b, h_tilde, out=d_k).sub_(d_a).mul_(z).mul_(a)  # (dL/db ⊙ h̃ - dL/da) ⊙ z (1 - z)
        torch.mul(d_b, z, out=d_h_tilde)

    def reference_coefficients(self, x_proj):
        k, h_tilde = x_proj.chunk(2, -1)
        z = torch.sigmoid(k)
        return 1 - z, z * h_tilde

    def gates(self, x_proj, h, c, w):
        k, h_tilde = x_proj.chunk(2, -1)
        return {"z": torch.sigmoid(k), "h": h_tilde}  # "h": the candidate h̃_t
