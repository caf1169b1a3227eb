"""Gated recurrent unit (Cho et al. 2014), in both published forms.

Forward, for one step (x_t: (B, D), h_{t-1}: (B, H)):

    r_t = sigmoid(W_ir x_t + b_ir + W_hr h_{t-1} + b_hr)               reset gate
    z_t = sigmoid(W_iz x_t + b_iz + W_hz h_{t-1} + b_hz)               update gate
    reset_after=True  (cuDNN / torch.nn, the default):
        n_t = tanh(W_in x_t + b_in + r_t * (W_hn h_{t-1} + b_hn))
    reset_after=False (Cho et al. 2014, the textbook form):
        n_t = tanh(W_in x_t + b_in + W_hn (r_t * h_{t-1}) + b_hn)
    h_t = (1 - z_t) * n_t + z_t * h_{t-1}

Backward, given d_h = dL/dh_t, with hn = W_hn h_{t-1} + b_hn (reset_after) and
rh = r_t * h_{t-1} (reset_before):

    d_n = d_h (1 - z_t) (1 - n_t^2)                      (pre-activation of n)
    d_z = d_h (h_{t-1} - n_t) z_t (1 - z_t)
    reset_after:   d_r = d_n * hn * r_t (1 - r_t);   grad of hn = d_n * r_t
                   dL/dh_{t-1} = d_h z_t + [d_r, d_z, d_n r_t] W_hh
    reset_before:  d_rh = d_n W_hn;  d_r = d_rh * h_{t-1} r_t (1 - r_t)
                   dL/dh_{t-1} = d_h z_t + d_rh r_t + [d_r, d_z] W_h[rz]

With reset_after every gate gradient is d_h times saved factors, formed for all steps at once.

On the CPU the reset_after form's fused path runs the compiled kernel variant instead
(``kernel_cells.KernelGRUCell``: the same equations, one pass per step).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from rnnkit.cells.base import Cell


class GRUSteps:
    """The GRU's reference step from its gates (``_gates(x_proj, h, w) -> (r, z, n)``), shared by the
    GRU and the layer-norm GRU."""

    def step(self, x_proj, h, c, w):
        r, z, n = self._gates(x_proj, h, w)
        return (1 - z) * n + z * h, None  # h_t = (1 - z) n + z h_{t-1}

    def recurrent_step(self, x_proj, h, h_in, c, w):
        r, z, n = self._gates(x_proj, h_in, w)  # the recurrent projections read the masked h
        return (1 - z) * n + z * h, None  # the direct path the unmasked one

    def gates(self, x_proj, h, c, w):
        return dict(zip(self.gate_order, self._gates(x_proj, h, w)))


class GRUCell(GRUSteps, Cell):
    name = "gru"
    gate_order = ("r", "z", "n")
    options = {"reset_after": True}
    torch_module = "GRU"
    auto_on_cpu = ("fused", "native")  # ours trains faster on the CPU, oneDNN infers faster

    def __init__(self, reset_after: bool = True):
        self.reset_after = bool(reset_after)
        if self.reset_after:  # torch.nn's form; torch has no reset-before GRU
            self.native, self.native_cell = "gru", "gru_cell"

    #: What the reset-before form is, for the messages of the backends that lack it.
    without_native = "a GRU with reset_after=False"
    why_not_native = "torch.nn's GRU applies the reset gate after the recurrent matmul"

    @classmethod
    def from_options(cls, options):
        return cls(reset_after=options.reset_after)

    @classmethod
    def variants(cls):
        return {"gru": {"cell": "gru", "reset_after": True}, "gru_reset_before": {"cell": "gru", "reset_after": False}}

    def input_bias(self, w):
        return w[2]  # b_hh enters inside the step (it is multiplied by r_t in the n gate)

    # ----- reference path ---------------------------------------------------------------------
    def _gates(self, x_proj, h, w):
        """(r_t, z_t, n_t), each (B, H): the equations up to the gates, in plain ops."""
        w_hh, b_hh = w[1], w[3]
        H = h.shape[1]
        x_r, x_z, x_n = x_proj.chunk(3, dim=1)  # 3 x (B, H)
        if self.reset_after:
            h_r, h_z, h_n = F.linear(h, w_hh, b_hh).chunk(3, dim=1)  # (B, 3H) -> 3 x (B, H)
            r, z = torch.sigmoid(x_r + h_r), torch.sigmoid(x_z + h_z)
            return r, z, torch.tanh(x_n + r * h_n)
        b_rz, b_n = (None, None) if b_hh is None else (b_hh[: 2 * H], b_hh[2 * H :])
        h_r, h_z = F.linear(h, w_hh[: 2 * H], b_rz).chunk(2, dim=1)  # (B, 2H) -> 2 x (B, H)
        r, z = torch.sigmoid(x_r + h_r), torch.sigmoid(x_z + h_z)
        return r, z, torch.tanh(x_n + F.linear(r * h, w_hh[2 * H :], b_n))

    # ----- fused path -------------------------------------------------------------------------
    def new_cache(self, T, B, H, like):
        if self.reset_after:
            return {"hw": like.new_empty(T, B, 3 * H)}  # h_{t-1} W_hh^T + b_hh
        # rh is zeroed, not merely allocated: rows of sequences that already ended are never
        # written, yet weight_hh_grad's one GEMM reads every row (times a zero gradient), and
        # uninitialised memory may hold NaN (0 * NaN = NaN).
        return {"hw": like.new_empty(T, B, 3 * H), "rh": like.new_zeros(T, B, H)}

    def forward_step(self, a, h_prev, c_prev, h, c, cache, prep):
        _, w_hh_t, b_hh = prep
        H = h_prev.shape[1]
        hw = cache["hw"]
        if self.reset_after:
            affine(h_prev, w_hh_t, b_hh, out=hw)  # (B, 3H)
            rz = a[:, : 2 * H].add_(hw[:, : 2 * H]).sigmoid_()  # r, z
            r, z = rz[:, :H], rz[:, H:]
            n = a[:, 2 * H :].addcmul_(r, hw[:, 2 * H :]).tanh_()
        else:
            b_rz, b_n = (None, None) if b_hh is None else (b_hh[: 2 * H], b_hh[2 * H :])
            affine(h_prev, w_hh_t[:, : 2 * H], b_rz, out=hw[:, : 2 * H])  # (B, 2H)
            rz = a[:, : 2 * H].add_(hw[:, : 2 * H]).sigmoid_()
            r, z = rz[:, :H], rz[:, H:]
            rh = torch.mul(r, h_prev, out=cache["rh"])
            affine(rh, w_hh_t[:, 2 * H :], b_n, out=hw[:, 2 * H :])  # (B, H)
            n = a[:, 2 * H :].add_(hw[:, 2 * H :]).tanh_()
        torch.sub(h_prev, n, out=h)
        h.mul_(z).add_(n)  # h_t = n + z (h_{t-1} - n)

    def local_grads(self, A, H_all, C_all, cache):
        T, B, GH = A.shape
        H = GH // 3
        h_prev = H_all[:-1]
        r, z, n = A.view(T, B, 3, H).unbind(2)  # each (T, B, H)
        one_minus_z = 1 - z
        P_n = torch.addcmul(one_minus_z, one_minus_z * n, n, value=-1)  # (1 - z)(1 - n^2)
        P_z = (h_prev - n).mul_(torch.addcmul(z, z, z, value=-1))  # (h_{t-1} - n) z (1 - z)
        if self.reset_after:
            hn = cache["hw"][:, :, 2 * H :]
            P = A.new_empty(T, B, 3, H)  # d(grad of r, z, hn) per unit of d_h
            torch.mul(P_n * hn, torch.addcmul(r, r, r, value=-1), out=P[:, :, 0])
            P[:, :, 1] = P_z
            torch.mul(P_n, r, out=P[:, :, 2])
            return {"P": P, "P_n": P_n, "z": z}
        P_zn = torch.stack((P_z, P_n), dim=2)  # (T, B, 2, H)
        P_r = h_prev * torch.addcmul(r, r, r, value=-1)
        return {"P_zn": P_zn, "P_r": P_r, "r": r, "z": z}

    def backward_step(self, d_h, d_c, d_ah, local, cache, prep, d_h_prev):
        w_hh = prep[0]
        n_rows, H = d_h.shape
        d_a = d_ah.view(n_rows, 3, H)  # (B, 3H) -> (B, 3, H)
        d_h_prev.addcmul_(d_h, local["z"])  # direct path: h_t = ... + z h_{t-1}
        if self.reset_after:
            torch.mul(d_h.unsqueeze(1), local["P"], out=d_a)  # d_r, d_z, d(hn)
            d_h_prev.addmm_(d_ah, w_hh)  # (B, 3H) @ (3H, H)
            return
        torch.mul(d_h.unsqueeze(1), local["P_zn"], out=d_a[:, 1:])  # d_z, d_n
        d_rh = d_a[:, 2] @ w_hh[2 * H :]  # (B, H) @ (H, H)
        torch.mul(d_rh, local["P_r"], out=d_a[:, 0])  # d_r
        d_h_prev.addcmul_(d_rh, local["r"])
        d_h_prev.addmm_(d_ah[:, : 2 * H], w_hh[: 2 * H])  # (B, 2H) @ (2H, H)

    def input_grads(self, d_ah, d_H, local):
        if not self.reset_after:
            return d_ah  # a_n = x_n + hn: the same gradient reaches both projections
        H = d_H.shape[-1]
        d_ax = d_ah.clone()
        torch.mul(d_H[1:], local["P_n"], out=d_ax[:, :, 2 * H :])  # n slot: d_n, not d_n r
        return d_ax

    def weight_hh_grad(self, d_ah, H_prev, cache):
        if self.reset_after:
            return super().weight_hh_grad(d_ah, H_prev, cache)
        H = H_prev.shape[-1]
        d_rz = d_ah[:, :, : 2 * H].reshape(-1, 2 * H)  # (T*B, 2H)
        d_n = d_ah[:, :, 2 * H :].reshape(-1, H)  # (T*B, H)
        return torch.cat((d_rz.t() @ H_prev.reshape(-1, H), d_n.t() @ cache["rh"].reshape(-1, H)))


def affine(x: Tensor, w_t: Tensor, b: Tensor | None, out: Tensor) -> Tensor:
    """out = x @ w_t + b, written into ``out`` (which may be a strided view)."""
    if b is None:
        return torch.mm(x, w_t, out=out)
    return torch.addmm(b, x, w_t, out=out)
