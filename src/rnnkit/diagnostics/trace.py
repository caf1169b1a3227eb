"""Run a recurrent stack one step and one layer at a time, keeping every state on the way.

A ``Recurrent`` layer returns only the top layer's outputs and the final state. To look inside
(the gradient reaching each layer's h_t, a unit's activation, a gate's value) the diagnostics run
the same stack with the same parameters step by step and keep, for every layer and direction:

    h_1..h_T (and c_1..c_T), the input projections, optionally the gate activations, and, in
    ``graph`` mode, the very tensors the computation went through, so that autograd can give
    dL/dh_t and dL/dc_t at each of them.

``Tracer`` is a context manager that stands in for a layer's ``forward`` while it is open, so any
model that calls its recurrent stack (``model.rnn``) is traced through its own forward, embedding,
head and loss included, with nothing model-specific here.

Two ways to run a layer-direction (``method``):

    "autograd"  the cell's ``reference_step`` per step (the equations as plain ops). Used for the
                autograd and native backends: torch's fused kernels keep no per-step state, and
                the three backends compute the same function (tests/layers checks it).
    "fused"     the fused BPTT Function (``rnnkit.layers.fused``) one step per call, chained:
                dL/dh_{t-1} and dL/dc_{t-1} then come out of the fused backward pass itself (its
                ``local_grads`` / ``backward_step``), which the tests compare with autograd.

What is differentiated with respect to what. The carried state of step t is s_t = (h_t, c_t):
everything after step t depends on the past only through it. ``h_nodes[t]`` is h_t itself (its
gradient is the total dL/dh_t: through the output y_t = h_t, the layer above, and step t+1,
including step t+1's cell state). ``c_nodes[t]`` is c_t as carried into step t+1 (its gradient is
dL/dc_t with h_t held fixed: the path along the cell state, the "constant error carousel").
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import Tensor
from torch.nn.utils.rnn import PackedSequence

from rnnkit.layers import Recurrent
from rnnkit.layers.fused import fused_recurrence
from rnnkit.layers.sequence import check_lengths, reverse_index, reverse_time, zero_padding
from rnnkit.layers.state import initial_state, stack_states

METHODS = ("autograd", "fused")


@dataclass
class LayerTrace:
    """One layer and direction of a traced run. Time runs in the direction's own reading order
    (for the reverse direction, step 1 read the last input); ``in_time_order`` maps back.

    Shapes: h, c (T, B, H) = h_1..h_T; h0, c0 (B, H); x_proj (T, B, G*H) = x_t W_ih^T + input bias;
    gates {name: (T, B, H)}. All detached. h_nodes / c_nodes: the T graph tensors (graph mode).
    """

    layer: int
    direction: int
    h: Tensor
    c: Tensor | None
    h0: Tensor
    c0: Tensor | None
    x_proj: Tensor
    weights: tuple[Tensor, Tensor, Tensor | None, Tensor | None]
    reverse: Tensor | None = None  # the (T, B) reversal index of a reverse direction with lengths
    gates: dict[str, Tensor] = field(default_factory=dict)
    h_nodes: list[Tensor] = field(default_factory=list)
    c_nodes: list[Tensor] = field(default_factory=list)

    @property
    def name(self) -> str:
        return f"layer {self.layer + 1}" + (" reverse" if self.direction else "")

    def h_prev(self) -> Tensor:
        """h_0..h_{T-1}, (T, B, H)."""
        return torch.cat((self.h0.unsqueeze(0), self.h[:-1]))

    def c_prev(self) -> Tensor | None:
        return None if self.c is None else torch.cat((self.c0.unsqueeze(0), self.c[:-1]))

    def in_time_order(self, x: Tensor) -> Tensor:
        """(T, B, ...) in reading order -> in the input's time order (identity going forwards)."""
        return x if self.direction == 0 else reverse_time(x, self.reverse)


class Tracer:
    """While open, ``layer(x, state, lengths=...)`` runs step by step and records a ``LayerTrace``
    per layer and direction (index k = layer * dirs + direction) in ``self.traces``; the outputs
    and final state are those of the layer's own forward (same parameters, same equations).

    Args:
        layer: the ``Recurrent`` stack to trace (e.g. ``model.rnn``).
        gates: also record the gate activations (``Cell.gates``); autograd method only.
        graph: keep the graph tensors h_t, c_t (``h_nodes``, ``c_nodes``) for autograd.
        method: "autograd" or "fused" (see the module docstring). "fused" needs full-length
            sequences (no ``lengths``).

    Raises:
        ValueError: an unknown method, gates with "fused", a PackedSequence input, lengths with "fused".
    """

    def __init__(self, layer: Recurrent, gates: bool = False, graph: bool = False, method: str = "autograd"):
        if not isinstance(layer, Recurrent):
            raise ValueError(f"trace: expected a rnnkit Recurrent layer, got {type(layer).__name__}")
        if method not in METHODS:
            raise ValueError(f"trace: expected method in {METHODS}, got {method!r}")
        if gates and method != "autograd":
            raise ValueError("trace: expected method='autograd' to record gates, got 'fused'")
        self.layer, self.record_gates, self.graph, self.method = layer, gates, graph, method
        self.traces: list[LayerTrace] = []

    def __enter__(self) -> Tracer:
        # An instance attribute shadows the class's forward for nn.Module.__call__; deleting it
        # on exit brings the layer's own forward back, whatever happened inside.
        self.layer.forward = self.forward
        return self

    def __exit__(self, *exc) -> None:
        del self.layer.forward

    def forward(self, x, state=None, lengths=None):
        layer, cfg, cell = self.layer, self.layer.config, self.layer.cell
        if isinstance(x, PackedSequence):
            raise ValueError("trace: expected a padded tensor input, got a PackedSequence")
        xt = x.transpose(0, 1) if cfg.batch_first else x  # (B, T, D) -> (T, B, D)
        T, B, _ = xt.shape
        lengths = check_lengths(lengths, B, T, xt.device)
        if lengths is not None and self.method == "fused":
            raise ValueError("trace: expected no lengths with method='fused' (one step per call), got lengths")
        shape = (cfg.num_layers * layer.num_directions, B, cfg.hidden_size)
        h0, c0 = initial_state(state, cell.has_cell_state, shape, xt)
        rev = reverse_index(lengths, T, B, xt.device) if cfg.bidirectional else None
        self.traces = []

        def run_layer(x_in, h0_k, c0_k, weights, index, direction):
            y, h, c, trace = self._run(x_in, h0_k, c0_k, weights, lengths)
            trace.layer, trace.direction = index, direction
            trace.reverse = rev if direction else None
            self.traces.append(trace)
            return y, h, c

        inp, hs, cs = layer.run_stack(xt, h0, c0, rev, run_layer)
        out = inp.transpose(0, 1) if cfg.batch_first else inp
        return out, stack_states(hs, cs)

    # ----- one layer-direction ----------------------------------------------------------------
    def _run(self, x: Tensor, h0: Tensor, c0: Tensor | None, weights, lengths: Tensor | None):
        """x (T, B, D) in reading order -> (outputs (T, B, H), h_n, c_n, LayerTrace)."""
        cell = self.layer.cell
        w_ih, w_hh, b_ih, b_hh = weights
        x = zero_padding(x, lengths)
        x_proj = F.linear(x, w_ih, cell.input_bias(b_ih, b_hh))  # (T, B, D) -> (T, B, G*H)
        T = x.shape[0]
        h, c = h0, c0
        outputs, h_vals, c_vals, h_nodes, c_nodes = [], [], [], [], []
        gates: dict[str, list[Tensor]] = {}
        for t in range(T):
            if self.method == "fused":
                y, _, c_new = fused_recurrence(cell, x[t : t + 1], h, c, *weights)  # one step
                h_new = y[0]  # (1, B, H) -> (B, H): the output and the next step's h_{t-1}, one tensor
            else:
                if self.record_gates:
                    with torch.no_grad():
                        for name, value in cell.gates(x_proj[t], h, c, w_hh, b_hh).items():
                            gates.setdefault(name, []).append(value)
                h_new, c_new = cell.reference_step(x_proj[t], h, c, w_hh, b_hh)
                if c_new is not None and self.graph:
                    # reference_step used c_t for h_t already; a copy carried forward has, as its
                    # gradient, dL/dc_t along the cell-state path only (h_t held fixed).
                    c_new = c_new.clone()
            if lengths is None:
                h, c = h_new, c_new
                outputs.append(h_new)
            else:  # as in rnnkit.layers.reference: a finished sequence keeps its state
                running = (t < lengths).unsqueeze(1)  # (B, 1)
                h = torch.where(running, h_new, h)
                c = None if c is None else torch.where(running, c_new, c)
                outputs.append(h_new * running)
            if self.graph:
                h_nodes.append(h_new)
                if c_new is not None:
                    c_nodes.append(c_new)
            h_vals.append(h.detach())
            if c is not None:
                c_vals.append(c.detach())
        trace = LayerTrace(
            layer=0,
            direction=0,
            h=torch.stack(h_vals),  # (T, B, H)
            c=torch.stack(c_vals) if c_vals else None,
            h0=h0.detach(),
            c0=None if c0 is None else c0.detach(),
            x_proj=x_proj.detach(),
            weights=weights,
            gates={name: torch.stack(values) for name, values in gates.items()},
            h_nodes=h_nodes,
            c_nodes=c_nodes,
        )
        return torch.stack(outputs), h, c, trace


def find_recurrent(model) -> Recurrent:
    """The one ``Recurrent`` stack inside ``model`` (or ``model`` itself)."""
    if isinstance(model, Recurrent):
        return model
    found = [m for m in model.modules() if isinstance(m, Recurrent)] if isinstance(model, torch.nn.Module) else []
    if len(found) != 1:
        raise ValueError(
            f"model: expected a model with exactly one rnnkit Recurrent stack, got {len(found)} in "
            f"{type(model).__name__}"
        )
    return found[0]
