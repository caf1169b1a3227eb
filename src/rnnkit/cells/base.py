"""The cell protocol: what every cell declares and provides, and the torch.nn weight layout.

A *cell* is the math of ONE time step. It owns no tensors: the layer creates the parameters the
cell declares (``parameters``) and passes them back in as one tuple ``w`` (declared order, None
where ``bias=False`` drops a bias), so one cell object serves every layer, direction and backend.

The cells here use torch.nn's layout exactly, so parameters convert to and from ``torch.nn.RNN``,
``LSTM`` and ``GRU`` by name, without any reshuffle:

    weight_ih  (G*H, D)    weight_hh  (G*H, H)    bias_ih  (G*H,)    bias_hh  (G*H,)

with the G gate blocks stacked in the order of ``gate_order``. We keep torch's order (rather than,
say, grouping the sigmoid gates) because the native backend hands these very tensors to torch's
kernels on every call: any other order would cost a weight copy per forward.

Each cell implements two paths over the same equations, and owns its input projection:

* ``project``: x W_ih^T + the input bias, for all steps at once (both paths).
* ``step``: the equations as plain PyTorch ops. Autograd differentiates it. It is the readable
  reference the tests compare against, and what the autograd backend and the tracer run.
* ``forward_step`` / ``local_grads`` / ``backward_step`` / ``backward_weights``: the fused path
  (``rnnkit.layers.fused``). ``forward_step`` writes into preallocated buffers and keeps what the
  backward needs. ``local_grads`` computes, for all T steps at once, every factor of the gate
  gradients that does not depend on the incoming gradient (big vectorised ops instead of T small
  ones). ``backward_step`` is then only what the recursion forces to be sequential, and
  ``backward_weights`` turns the gate gradients into dx and every parameter's gradient.

A cell with a compiled CPU kernel has a kernel-backed variant (``rnnkit.cells.kernel_cells``), a
subclass whose fused-path methods call the kernel; the layer picks it once per call (the registry's
``kernel_variant``), so the cell's own file holds the equations only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor

#: Default LSTM forget-gate bias. 1.0 (Gers et al. 2000; Jozefowicz et al. 2015) keeps the
#: cell state flowing at the start of training, so gradients reach far back from step one.
FORGET_BIAS = 1.0


@dataclass(frozen=True)
class Param:
    """One parameter of a layer-direction: registered as ``{kind}_l{layer}{_reverse}``."""

    kind: str  # "weight_ih", "bias_hh", ...
    shape: tuple[int, ...]
    bias: bool = False  # left out (None in ``w``) when the layer has bias=False


class Cell:
    """One recurrent time step. Subclasses set the class attributes and the methods below.

    Buffers of the fused path are time-major: A (T, B, G*H) holds the input projection on entry
    and the gate activations after ``forward_step``; H_all (T+1, B, h size) and C_all (T+1, B, H)
    hold h_0..h_T and c_0..c_T. ``prep`` is what ``prepare(w)`` formed once per call (e.g. W_hh^T).
    """

    name: str = "cell"  # the RecurrentConfig / CLI cell name
    gate_order: tuple[str, ...] = ()  # gate blocks in the weights, top to bottom
    has_cell_state: bool = False  # LSTM carries (h, c); the others carry h only
    #: RecurrentConfig fields the cell reads, with their defaults (the registry goes by them).
    options: dict[str, object] = {}
    #: An option which, when set (non-zero), selects this class over the plain one of its name.
    selected_by: str | None = None
    #: torch.nn's class and _VF kernels for this cell (None where torch.nn lacks it).
    torch_module: str | None = None  # "LSTM": torch.nn.LSTM
    native: str | None = None  # "lstm": torch._VF.lstm, the sequence kernel
    native_cell: str | None = None  # "lstm_cell": torch._VF.lstm_cell, the one-step kernel
    torch_options: tuple[str, ...] = ()  # options torch.nn's class takes too (same names)
    #: How h_t's values are spread (for display): "tanh" in (-1, 1), "free" unbounded.
    h_range: str = "tanh"
    #: For the messages of the backends a cell without ``native`` lacks: what it is, and why.
    without_native: str = "this cell"
    why_not_native: str = "torch.nn has no such cell"
    #: The measured "auto" backend on the CPU: (training, inference); benchmarks/RESULTS.md.
    auto_on_cpu: tuple[str, str] = ("fused", "fused")
    #: h_t = a_t ⊙ h_{t-1} + b_t with (a_t, b_t) from x_t alone: the fused backend runs it as a
    #: parallel scan (``rnnkit.cells.scan_cell``, ``rnnkit.layers.scan``), not step by step.
    scan: bool = False

    @classmethod
    def from_options(cls, options) -> Cell:
        """The cell for a configuration (anything with the ``options`` attributes)."""
        return cls()

    @classmethod
    def variants(cls) -> dict[str, dict]:
        """Every form of this cell, {test id: RecurrentConfig keyword arguments}: the tests run them all."""
        return {cls.name: {"cell": cls.name}}

    num_gates: int = 0  # G = len(gate_order), set for every subclass

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls.num_gates = len(cls.gate_order)

    # ----- parameters ---------------------------------------------------------------------------

    def state_sizes(self, H: int) -> tuple[int, int | None]:
        """(size of h, size of c or None) for hidden size H."""
        return H, (H if self.has_cell_state else None)

    def parameters(self, D: int, H: int) -> tuple[Param, ...]:
        """The parameters of one layer-direction with input size D, in registration order."""
        GH, h_size = self.num_gates * H, self.state_sizes(H)[0]
        return (
            Param("weight_ih", (GH, D)),
            Param("weight_hh", (GH, h_size)),
            Param("bias_ih", (GH,), bias=True),
            Param("bias_hh", (GH,), bias=True),
        )

    def reset_(self, w: tuple, recurrent_init: str = "orthogonal", forget_bias: float = FORGET_BIAS) -> None:
        """Initialise one layer-direction's parameters in place.

        * W_ih ~ U(-1/sqrt(H), 1/sqrt(H)), torch.nn's default.
        * W_hh: each gate block orthogonal (``recurrent_init="orthogonal"``, Saxe et al. 2014): the
          step Jacobian starts with singular values near 1, so gradients neither vanish nor explode
          at initialisation. ``"uniform"`` gives torch.nn's default instead.
        * biases zero, except a forget gate ``f``: ``forget_bias`` split as (forget_bias, 0) over
          b_ih and b_hh so their sum (what the equations use) is ``forget_bias``.
        """
        w_ih, w_hh, b_ih, b_hh = w[:4]
        G = self.num_gates
        H = w_hh.shape[0] // G
        bound = 1.0 / math.sqrt(H)
        with torch.no_grad():
            w_ih.uniform_(-bound, bound)
            init_recurrent_(w_hh.view(G, H, -1), recurrent_init, bound)
            if b_ih is not None:
                b_ih.zero_()
                b_hh.zero_()
                if "f" in self.gate_order:
                    f = self.gate_order.index("f")
                    b_ih[f * H : (f + 1) * H] = forget_bias

    # ----- the input projection (both paths) ----------------------------------------------------
    def input_bias(self, w: tuple) -> Tensor | None:
        """Bias added to the input projection x W_ih^T (both biases where the cell only uses
        their sum; the recurrent one is then not added again per step)."""
        b_ih, b_hh = w[2], w[3]
        if b_ih is None:
            return None
        return b_ih + b_hh

    def biases(self, w: tuple) -> tuple:
        """The tensors ``input_bias`` is a function of (b_ih, b_hh)."""
        return w[2], w[3]

    def project(self, x: Tensor, w: tuple, bias: Tensor | None = None) -> Tensor:
        """x (..., D) -> x W_ih^T + input bias (..., G*H). ``bias``: a precomputed ``input_bias(w)``."""
        return F.linear(x, w[0], self.input_bias(w) if bias is None else bias)

    # ----- reference path -----------------------------------------------------------------------
    def step(self, x_proj: Tensor, h: Tensor, c: Tensor | None, w: tuple) -> tuple[Tensor, Tensor | None]:
        """One step in plain ops. ``x_proj`` = ``project(x_t, w)``. Returns (h_t, c_t)."""
        raise NotImplementedError

    def recurrent_step(self, x_proj: Tensor, h: Tensor, h_in: Tensor, c: Tensor | None, w: tuple):
        """``step`` with h_in (h masked by recurrent dropout) where h enters the recurrent
        projection, and h itself in any direct path. This default is for cells whose h enters the
        step only through the recurrence (Elman, LSTMs, IndRNN); the GRUs override it."""
        return self.step(x_proj, h_in, c, w)

    def gates(self, x_proj: Tensor, h: Tensor, c: Tensor | None, w: tuple) -> dict[str, Tensor]:
        """The gate activations of one step, {name in ``gate_order``: (B, H)}, from the same
        arguments as ``step`` (for inspection: rnnkit.diagnostics colours text by them).
        Cells without gates (Elman) return {}."""
        return {}

    # ----- fused path ---------------------------------------------------------------------------
    def prepare(self, w: tuple) -> tuple:
        """What every step of the fused path reuses, formed once per call: (W_hh, W_hh^T, b_hh)."""
        return w[1], w[1].t(), w[3]

    def inference_step(
        self, x: Tensor, h_prev: Tensor, c_prev: Tensor | None, h: Tensor, c: Tensor | None, w: tuple, bias=None
    ) -> None:
        """A whole step without autograd (generation) into the buffers h, c: the input projection,
        then ``forward_step``. ``bias`` is a precomputed ``input_bias(w)``."""
        B, H = x.shape[0], w[1].shape[0] // self.num_gates
        cache = {name: buffer[0] for name, buffer in self.new_cache(1, B, H, h).items()}  # scratch
        a = self.project(x, w, bias)  # (B, D) -> (B, G*H)
        self.forward_step(a, h_prev, c_prev, h, c, cache, self.prepare(w))

    def new_cache(self, T: int, B: int, H: int, like: Tensor) -> dict[str, Tensor]:
        """Extra per-step buffers the backward needs, beyond A, H_all and C_all."""
        return {}

    def forward_step(self, a, h_prev, c_prev, h, c, cache: dict, prep: tuple) -> None:
        """Finish step t in place: ``a`` (n, G*H) holds the input projection on entry; write h, c."""
        raise NotImplementedError

    def local_grads(self, A: Tensor, H_all: Tensor, C_all: Tensor | None, cache: dict) -> dict[str, Tensor]:
        raise NotImplementedError

    def backward_step(self, d_h, d_c, d_ah, local: dict, cache: dict, prep: tuple, d_h_prev) -> None:
        """Given d_h, the total gradient w.r.t. this step's h_t, write d_ah (the gradient w.r.t. the
        recurrent projection h_{t-1} W_hh^T + b_hh) and ADD this step's contribution to d_h_prev.
        Cells with a cell state also get ``d_c``, updated in place: on entry dL/dc_t from step t+1,
        on exit dL/dc_{t-1}."""
        raise NotImplementedError

    def input_grads(self, d_ah: Tensor, d_H: Tensor, local: dict) -> Tensor:
        """Gradient w.r.t. the input projection, for all T at once. Equal to d_ah wherever the
        input and recurrent projections are simply added (LSTM, Elman)."""
        return d_ah

    def weight_hh_grad(self, d_ah: Tensor, H_prev: Tensor, cache: dict) -> Tensor:
        """dL/dW_hh as ONE GEMM over all T*B rows: sum_t d_ah_t^T h_{t-1}."""
        GH, H = d_ah.shape[-1], H_prev.shape[-1]
        return d_ah.reshape(-1, GH).t() @ H_prev.reshape(-1, H)  # (G*H, T*B) @ (T*B, H)

    def backward_weights(self, x, d_ah, d_H, H_all, local, cache, w: tuple, need: tuple) -> tuple:
        """After the time loop: (dx, d_w...) with one gradient per entry of ``w``, each ONE GEMM
        (or sum) over all T*B rows; ``need[0]`` for dx, ``need[1:]`` per parameter."""
        w_ih, b_ih = w[0], w[2]
        T, B, D = x.shape
        GH = d_ah.shape[-1]
        d_ax = self.input_grads(d_ah, d_H, local)  # (T, B, G*H)
        d_ax2 = d_ax.reshape(T * B, GH)
        d_x = (d_ax2 @ w_ih).view(T, B, D) if need[0] else None  # (T*B, G*H) @ (G*H, D)
        d_w_ih = d_ax2.t() @ x.reshape(T * B, D) if need[1] else None  # (G*H, D)
        d_w_hh = self.weight_hh_grad(d_ah, H_all[:-1], cache) if need[2] else None  # (G*H, H)
        d_b_ih = d_b_hh = None
        if b_ih is not None:
            d_b_ih = d_ax2.sum(0)
            d_b_hh = d_b_ih.clone() if d_ax is d_ah else d_ah.reshape(T * B, GH).sum(0)  # same sum: reuse
        return d_x, d_w_ih, d_w_hh, d_b_ih, d_b_hh


def init_recurrent_(blocks: Tensor, recurrent_init: str, bound: float) -> None:
    """Recurrent weights (G, H, K), in place: each block orthogonal, or U(-bound, bound)."""
    if recurrent_init == "orthogonal":
        for block in blocks:
            torch.nn.init.orthogonal_(block)
    elif recurrent_init == "uniform":
        blocks.uniform_(-bound, bound)
    else:
        raise ValueError(f"recurrent_init: expected 'orthogonal' or 'uniform', got {recurrent_init!r}")
