"""Kernel-backed variants of the cells: the fused path's step math through the compiled CPU kernels.

Each variant is a subclass of its cell whose fused-path methods call ``rnnkit.cells.compiled``
(``kernels/lstm_step.cpp``, ``kernels/gru_step.cpp``: the same equations as the cell's file, one
pass over memory per step; ``kernels/scan.cpp``: a scan cell's whole sequence in one pass). The
layer picks a variant ONCE per call, where the kernel runs on the call's device and dtype (the
registry's ``kernel_variant``); inside the time loop nothing is checked again, and every buffer the
loop hands the kernel is freshly allocated and contiguous. The kernels need no precomputed
gradient factors, so ``local_grads`` only hands the saved activations over.
"""

from __future__ import annotations

import torch

from rnnkit.cells import compiled
from rnnkit.cells.base import Cell
from rnnkit.cells.gru import GRUCell, affine
from rnnkit.cells.gru_ln import LayerNormGRUCell
from rnnkit.cells.lstm import LSTMCell
from rnnkit.cells.lstm_ln import LayerNormLSTMCell
from rnnkit.cells.lstm_proj import ProjLSTMCell
from rnnkit.cells.mingru import MinGRUCell
from rnnkit.cells.minlstm import MinLSTMCell


class KernelLSTMCell(LSTMCell):
    """``LSTMCell`` with ``kernels/lstm_step.cpp`` doing each step's gate math."""

    kernel = "lstm"

    @classmethod
    def of(cls, cell: LSTMCell) -> KernelLSTMCell | None:
        return cls() if type(cell) is LSTMCell else None

    def inference_step(self, x, h_prev, c_prev, h, c, w, bias=None):
        # Generation-sized batches: one kernel call does the matrix-vector products and the gates.
        w_ih, w_hh = w[0], w[1]
        if bias is None:
            bias = self.input_bias(w)
        parts = (x, w_ih, w_hh, h_prev, c_prev, h, c) + (() if bias is None else (bias,))
        if x.shape[0] <= compiled.STEP_MAX_ROWS and compiled.usable("lstm", *parts):
            compiled.lstm_step(x, w_ih, w_hh, bias, h_prev, c_prev, h, c)
        elif compiled.usable("lstm", c_prev, c):  # the buffers forward_step hands the kernel
            Cell.inference_step(self, x, h_prev, c_prev, h, c, w, bias)
        else:
            LSTMCell.inference_step(LSTMCell(), x, h_prev, c_prev, h, c, w, bias)

    def forward_step(self, a, h_prev, c_prev, h, c, cache, prep):
        a.addmm_(h_prev, prep[1])  # a = W_ih x_t + b + W_hh h_{t-1}; overwritten with activations
        compiled.lstm_forward(a, c_prev, c, cache["tc"], h)

    def local_grads(self, A, H_all, C_all, cache):
        return {"act": A, "c_prev": C_all[:-1]}  # the kernel forms every factor on the fly

    def backward_step(self, d_h, d_c, d_ah, local, cache, prep, d_h_prev):
        compiled.lstm_backward(local["act"], cache["tc"], local["c_prev"], d_h, d_c, d_ah)
        d_h_prev.addmm_(d_ah, prep[0])  # dL/dh_{t-1} += d_a W_hh   (B, 4H) @ (4H, H)


class KernelGRUCell(GRUCell):
    """``GRUCell(reset_after=True)`` with ``kernels/gru_step.cpp`` doing each step's math."""

    kernel = "gru"

    @classmethod
    def of(cls, cell: GRUCell) -> KernelGRUCell | None:
        return cls(reset_after=True) if type(cell) is GRUCell and cell.reset_after else None

    def inference_step(self, x, h_prev, c_prev, h, c, w, bias=None):
        if compiled.usable("gru", h_prev, h):  # the buffers forward_step hands the kernel
            Cell.inference_step(self, x, h_prev, c_prev, h, c, w, bias)
        else:
            GRUCell.inference_step(GRUCell(reset_after=True), x, h_prev, c_prev, h, c, w, bias)

    def forward_step(self, a, h_prev, c_prev, h, c, cache, prep):
        _, w_hh_t, b_hh = prep
        hw = cache["hw"]
        affine(h_prev, w_hh_t, b_hh, out=hw)  # (B, 3H) = h_{t-1} W_hh^T + b_hh
        compiled.gru_forward(a, hw, h_prev, h)

    def local_grads(self, A, H_all, C_all, cache):
        T, B, GH = A.shape
        # The kernel forms every factor on the fly; it writes d_xn, the input projection's n
        # slot, here. Zeroed: rows of finished sequences are never written.
        return {"act": A, "hw": cache["hw"], "h_prev": H_all[:-1], "d_xn": A.new_zeros(T, B, GH // 3)}

    def backward_step(self, d_h, d_c, d_ah, local, cache, prep, d_h_prev):
        compiled.gru_backward(local["act"], local["hw"], local["h_prev"], d_h, d_ah, local["d_xn"], d_h_prev)
        d_h_prev.addmm_(d_ah, prep[0])  # (B, 3H) @ (3H, H)

    def input_grads(self, d_ah, d_H, local):
        H = d_H.shape[-1]
        d_ax = d_ah.clone()
        d_ax[:, :, 2 * H :] = local["d_xn"]  # n slot: d_n, not d_n r
        return d_ax


class KernelProjLSTMCell(ProjLSTMCell, KernelLSTMCell):
    """``ProjLSTMCell`` whose LSTM step runs ``kernels/lstm_step.cpp``; the projection GEMMs stay
    with BLAS. The projection cell calls the LSTM's step through ``super()``, which in this class's
    method order (ProjLSTMCell, KernelLSTMCell, LSTMCell) is the kernel-backed one."""

    @classmethod
    def of(cls, cell: ProjLSTMCell) -> KernelProjLSTMCell | None:
        return cls(cell.proj_size) if type(cell) is ProjLSTMCell else None

    def inference_step(self, x, h_prev, c_prev, h, c, w, bias=None):
        # No whole-step kernel (it has no projection): the input GEMM, then forward_step.
        cell = self if compiled.usable("lstm", c_prev, c) else ProjLSTMCell(self.proj_size)
        Cell.inference_step(cell, x, h_prev, c_prev, h, c, w, bias)


class KernelLayerNormLSTMCell(LayerNormLSTMCell):
    """``LayerNormLSTMCell`` with ``kernels/lnlstm_step.cpp`` doing each step's normalisations and
    gate math after torch's recurrent GEMM (the eager path makes some fifteen passes per step)."""

    kernel = "lnlstm"

    @classmethod
    def of(cls, cell: LayerNormLSTMCell) -> KernelLayerNormLSTMCell | None:
        return cls() if type(cell) is LayerNormLSTMCell else None

    def inference_step(self, x, h_prev, c_prev, h, c, w, bias=None):
        if compiled.usable("lnlstm", c_prev, c, h, *w[5:8]):  # the buffers forward_step hands the kernel
            Cell.inference_step(self, x, h_prev, c_prev, h, c, w, bias)
        else:
            LayerNormLSTMCell.inference_step(LayerNormLSTMCell(), x, h_prev, c_prev, h, c, w, bias)

    def forward_step(self, a, h_prev, c_prev, h, c, cache, prep):
        r = torch.mm(h_prev, prep[1], out=cache["r"])  # r = W_hh h_{t-1}   (n, 4H)
        stats = (cache["rm"], cache["rs"], cache["cm"], cache["cs"])
        compiled.lnlstm_forward(a, r, c_prev, prep[2], prep[3], prep[4], c, cache["tc"], h, *stats)

    def local_grads(self, A, H_all, C_all, cache):
        T, B, GH = A.shape  # the kernel forms every factor on the fly; dA, dZ for the sums after the loop
        return {
            "act": A,
            "c_prev": C_all[:-1],
            "c": C_all[1:],
            "dA": A.new_zeros(T, B, GH),
            "dZ": A.new_zeros(T, B, GH // 4),
        }

    def backward_step(self, d_h, d_c, d_ah, local, cache, prep, d_h_prev):
        stats = (cache["rm"], cache["rs"], cache["cm"], cache["cs"])
        compiled.lnlstm_backward(local["act"], cache["r"], local["c_prev"], local["c"], cache["tc"], *stats,
                                 prep[2], prep[3], d_h, d_c, local["dA"], local["dZ"], d_ah)  # fmt: skip
        d_h_prev.addmm_(d_ah, prep[0])  # dL/dh_{t-1} += d_r W_hh   (n, 4H) @ (4H, H)


class KernelLayerNormGRUCell(LayerNormGRUCell):
    """``LayerNormGRUCell`` with ``kernels/lngru_step.cpp`` doing each step's normalisation and gate
    math after torch's recurrent GEMM."""

    kernel = "lngru"

    @classmethod
    def of(cls, cell: LayerNormGRUCell) -> KernelLayerNormGRUCell | None:
        return cls() if type(cell) is LayerNormGRUCell else None

    def inference_step(self, x, h_prev, c_prev, h, c, w, bias=None):
        if compiled.usable("lngru", h_prev, h, w[5]):  # the buffers forward_step hands the kernel
            Cell.inference_step(self, x, h_prev, c_prev, h, c, w, bias)
        else:
            LayerNormGRUCell.inference_step(LayerNormGRUCell(), x, h_prev, c_prev, h, c, w, bias)

    def forward_step(self, a, h_prev, c_prev, h, c, cache, prep):
        q = torch.mm(h_prev, prep[1], out=cache["q"])  # q = W_hh h_{t-1}   (n, 3H)
        compiled.lngru_forward(a, q, h_prev, prep[3], prep[2], cache["u"], h, cache["qm"], cache["qs"])

    def local_grads(self, A, H_all, C_all, cache):
        T, B, GH = A.shape  # the kernel forms every factor on the fly; dV, dU for the sums after the loop
        return {"act": A, "h_prev": H_all[:-1], "dV": A.new_zeros(T, B, GH), "dU": A.new_zeros(T, B, GH)}

    def backward_step(self, d_h, d_c, d_ah, local, cache, prep, d_h_prev):
        compiled.lngru_backward(local["act"], cache["q"], cache["u"], cache["qm"], cache["qs"], local["h_prev"],
                                prep[3], d_h, local["dV"], local["dU"], d_ah, d_h_prev)  # fmt: skip
        d_h_prev.addmm_(d_ah, prep[0])  # dL/dh_{t-1} += d_q W_hh   (n, 3H) @ (3H, H)


class _ScanKernel:
    """The whole sequence of a scan cell through ``kernels/scan.cpp``: the coefficients and the
    scan in one pass over memory, forward and backward (``rnnkit.layers.scan`` calls these)."""

    kernel = "scan"
    whole_sequence = True

    def scan_forward(self, gates, H_all, limits) -> None:
        compiled.scan_forward(self.name, gates, H_all, limits)

    def scan_backward(self, gates, H_all, d_Y, d_h_n, d_gates, d_h0, limits) -> None:
        compiled.scan_backward(self.name, gates, H_all, d_Y, d_h_n, d_gates, d_h0, limits)


class KernelMinGRUCell(_ScanKernel, MinGRUCell):
    @classmethod
    def of(cls, cell: MinGRUCell) -> KernelMinGRUCell | None:
        return cls() if type(cell) is MinGRUCell else None


class KernelMinLSTMCell(_ScanKernel, MinLSTMCell):
    @classmethod
    def of(cls, cell: MinLSTMCell) -> KernelMinLSTMCell | None:
        return cls() if type(cell) is MinLSTMCell else None
