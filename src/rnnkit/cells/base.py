"""What every cell provides, the gate layout, and the initialisation rules.

A *cell* is the math of ONE time step. It owns no parameters: the layer passes the weights
in, so the same cell object serves every layer, direction and backend.

Weights use torch.nn's layout exactly, so parameters convert to and from ``torch.nn.RNN``,
``LSTM`` and ``GRU`` by name, without any reshuffle:

    weight_ih  (G*H, D)    weight_hh  (G*H, H)    bias_ih  (G*H,)    bias_hh  (G*H,)

with the G gate blocks stacked in the order of ``GATE_ORDER``. We keep torch's order (rather
than, say, grouping the sigmoid gates) because the native backend hands these very tensors to
torch's kernels on every call: any other order would cost a weight copy per forward.

Each cell implements two paths over the same equations:

* ``reference_step``: the equations as plain PyTorch ops. Autograd differentiates it. It is
  the readable reference the tests compare against, and what the single-step API uses.
* ``forward_step`` / ``local_grads`` / ``backward_step``: the fused path used by
  ``rnnkit.layers.fused``. ``forward_step`` writes into preallocated buffers and keeps what
  the backward needs. ``local_grads`` computes, for all T steps at once, every factor of the
  gate gradients that does not depend on the incoming gradient (big vectorised ops instead of
  T small ones). ``backward_step`` is then only what the recursion forces to be sequential.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor

#: Gate blocks in weight_ih / weight_hh / biases, top to bottom (torch.nn's order).
GATE_ORDER: dict[str, tuple[str, ...]] = {
    "rnn": ("h",),
    "lstm": ("i", "f", "g", "o"),
    "gru": ("r", "z", "n"),
}

#: Default LSTM forget-gate bias. 1.0 (Gers et al. 2000; Jozefowicz et al. 2015) keeps the
#: cell state flowing at the start of training, so gradients reach far back from step one.
FORGET_BIAS = 1.0


class Cell:
    """One recurrent time step. Subclasses set the class attributes and the methods below.

    Buffers of the fused path are time-major: A (T, B, G*H) holds the input projection on entry
    and the gate activations after ``forward_step``; H_all and C_all (T+1, B, H) hold
    h_0..h_T and c_0..c_T.
    """

    name: str = "cell"
    num_gates: int = 1  # G
    has_cell_state: bool = False  # LSTM carries (h, c); the others carry h only
    kernel: str | None = None  # name of its compiled step kernel (rnnkit.cells.compiled), if any

    # ----- shared by both paths ---------------------------------------------------------------
    def input_bias(self, b_ih: Tensor | None, b_hh: Tensor | None) -> Tensor | None:
        """Bias added to the input projection x W_ih^T (both biases where the cell only uses
        their sum; the recurrent one is then not added again per step)."""
        if b_ih is None:
            return None
        return b_ih + b_hh

    # ----- reference path ---------------------------------------------------------------------
    def reference_step(
        self, x_proj: Tensor, h: Tensor, c: Tensor | None, w_hh: Tensor, b_hh: Tensor | None
    ) -> tuple[Tensor, Tensor | None]:
        """One step in plain ops. ``x_proj`` = x_t W_ih^T + ``input_bias``. Returns (h_t, c_t)."""
        raise NotImplementedError

    def gates(
        self, x_proj: Tensor, h: Tensor, c: Tensor | None, w_hh: Tensor, b_hh: Tensor | None
    ) -> dict[str, Tensor]:
        """The gate activations of one step, {name in ``GATE_ORDER``: (B, H)}, from the same
        arguments as ``reference_step`` (for inspection: rnnkit.diagnostics colours text by them).
        Cells without gates (Elman) return {}."""
        return {}

    # ----- fused path -------------------------------------------------------------------------
    def inference_step(
        self,
        x: Tensor,
        h_prev: Tensor,
        c_prev: Tensor | None,
        h: Tensor,
        c: Tensor | None,
        w_ih: Tensor,
        w_hh: Tensor,
        bias: Tensor | None,
        b_hh: Tensor | None,
    ) -> None:
        """A whole step without autograd (generation) into the buffers h, c (B, H): the input
        projection, then ``forward_step``. ``bias`` is ``input_bias(b_ih, b_hh)``."""
        B, H = h.shape
        cache = {name: buffer[0] for name, buffer in self.new_cache(1, B, H, h).items()}  # scratch
        a = F.linear(x, w_ih, bias)  # (B, D) -> (B, G*H)
        self.forward_step(a, h_prev, c_prev, h, c, cache, w_hh.t(), b_hh)

    def new_cache(self, T: int, B: int, H: int, like: Tensor) -> dict[str, Tensor]:
        """Extra per-step buffers the backward needs, beyond A, H_all and C_all."""
        return {}

    def forward_step(
        self,
        a: Tensor,
        h_prev: Tensor,
        c_prev: Tensor | None,
        h: Tensor,
        c: Tensor | None,
        cache: dict[str, Tensor],
        w_hh_t: Tensor,
        b_hh: Tensor | None,
    ) -> None:
        raise NotImplementedError

    def local_grads(
        self, A: Tensor, H_all: Tensor, C_all: Tensor | None, cache: dict[str, Tensor]
    ) -> dict[str, Tensor]:
        raise NotImplementedError

    def backward_step(
        self,
        d_h: Tensor,
        d_c: Tensor | None,
        d_ah: Tensor,
        local: dict[str, Tensor],
        cache: dict[str, Tensor],
        w_hh: Tensor,
        d_h_prev: Tensor,
    ) -> None:
        """Given d_h, the total gradient w.r.t. this step's h_t, write d_ah (the gradient w.r.t. the
        recurrent projection h_{t-1} W_hh^T + b_hh) and ADD this step's contribution to d_h_prev.
        Cells with a cell state also get ``d_c``, updated in place: on entry dL/dc_t from step t+1,
        on exit dL/dc_{t-1}."""
        raise NotImplementedError

    def input_grads(self, d_ah: Tensor, d_H: Tensor, local: dict[str, Tensor]) -> Tensor:
        """Gradient w.r.t. the input projection, for all T at once. Equal to d_ah wherever the
        input and recurrent projections are simply added (LSTM, Elman)."""
        return d_ah

    def weight_hh_grad(self, d_ah: Tensor, H_prev: Tensor, cache: dict[str, Tensor]) -> Tensor:
        """dL/dW_hh as ONE GEMM over all T*B rows: sum_t d_ah_t^T h_{t-1}."""
        GH, H = d_ah.shape[-1], H_prev.shape[-1]
        return d_ah.reshape(-1, GH).t() @ H_prev.reshape(-1, H)  # (G*H, T*B) @ (T*B, H)


def init_weights_(
    cell: Cell,
    w_ih: Tensor,
    w_hh: Tensor,
    b_ih: Tensor | None,
    b_hh: Tensor | None,
    recurrent_init: str = "orthogonal",
    forget_bias: float = FORGET_BIAS,
) -> None:
    """Initialise one layer-direction's weights in place.

    * W_ih ~ U(-1/sqrt(H), 1/sqrt(H)), torch.nn's default.
    * W_hh: each gate block orthogonal (``recurrent_init="orthogonal"``, Saxe et al. 2014): the
      step Jacobian starts with singular values near 1, so gradients neither vanish nor explode
      at initialisation. ``"uniform"`` gives torch.nn's default instead.
    * biases zero, except the LSTM forget gate: ``forget_bias`` split as (forget_bias, 0) over
      b_ih and b_hh so their sum (what the equations use) is ``forget_bias``.
    """
    H = w_hh.shape[1]
    bound = 1.0 / math.sqrt(H)
    with torch.no_grad():
        w_ih.uniform_(-bound, bound)
        if recurrent_init == "orthogonal":
            for block in w_hh.view(cell.num_gates, H, H):
                torch.nn.init.orthogonal_(block)
        elif recurrent_init == "uniform":
            w_hh.uniform_(-bound, bound)
        else:
            raise ValueError(f"recurrent_init: expected 'orthogonal' or 'uniform', got {recurrent_init!r}")
        if b_ih is not None:
            b_ih.zero_()
            b_hh.zero_()
            if cell.name == "lstm":
                b_ih[H : 2 * H] = forget_bias  # block 1 is f in GATE_ORDER["lstm"]
