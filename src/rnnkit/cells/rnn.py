"""Elman recurrent network (Elman 1990), the "vanilla" RNN.

Forward, for one step (x_t: (B, D), h_{t-1}: (B, H)):

    a_t = W_ih x_t + b_ih + W_hh h_{t-1} + b_hh
    h_t = act(a_t)                 act = tanh (default) or relu

Backward, given d_h = dL/dh_t (from the output and from step t+1):

    d_a = d_h * act'(a_t)          tanh' = 1 - h_t^2,  relu' = [h_t > 0]
    dL/dh_{t-1} = d_a W_hh

The repeated product of W_hh^T diag(act') over steps is what makes gradients vanish or explode.
"""

from __future__ import annotations

import torch

from rnnkit.cells.base import Cell

NONLINEARITIES = ("tanh", "relu")


class ElmanCell(Cell):
    name = "rnn"
    gate_order = ("h",)
    options = {"nonlinearity": "tanh"}
    torch_module, torch_options = "RNN", ("nonlinearity",)
    auto_on_cpu = ("fused", "fused")  # ours beats torch.nn's on the CPU, 1.2-1.5x

    def __init__(self, nonlinearity: str = "tanh"):
        if nonlinearity not in NONLINEARITIES:
            raise ValueError(f"nonlinearity: expected one of {NONLINEARITIES}, got {nonlinearity!r}")
        self.nonlinearity = nonlinearity
        self.native, self.native_cell = f"rnn_{nonlinearity}", f"rnn_{nonlinearity}_cell"
        self.h_range = "tanh" if nonlinearity == "tanh" else "free"

    @classmethod
    def from_options(cls, options):
        return cls(options.nonlinearity)

    @classmethod
    def variants(cls):
        return {f"rnn_{a}": {"cell": "rnn", "nonlinearity": a} for a in NONLINEARITIES}

    def _act(self, a, out=None):
        if self.nonlinearity == "tanh":
            return torch.tanh(a, out=out)
        return torch.clamp_min(a, 0.0, out=out)

    def step(self, x_proj, h, c, w):
        return self._act(torch.addmm(x_proj, h, w[1].t())), None  # (B, H)

    def forward_step(self, a, h_prev, c_prev, h, c, cache, prep):
        a.addmm_(h_prev, prep[1])  # a_t = W_ih x_t + b + W_hh h_{t-1}
        self._act(a, out=h)

    def local_grads(self, A, H_all, C_all, cache):
        h = H_all[1:]  # (T, B, H)
        if self.nonlinearity == "tanh":
            return {"P": torch.addcmul(torch.ones_like(h), h, h, value=-1)}  # 1 - h^2
        return {"P": (h > 0).to(h.dtype)}

    def backward_step(self, d_h, d_c, d_ah, local, cache, prep, d_h_prev):
        torch.mul(d_h, local["P"], out=d_ah)  # d_a = d_h act'(a_t)
        d_h_prev.addmm_(d_ah, prep[0])  # dL/dh_{t-1} += d_a W_hh   (B, H) @ (H, H)
