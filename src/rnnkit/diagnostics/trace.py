"""Record every step of every layer of a model's recurrent stacks, keeping every state on the way.

A ``Recurrent`` layer returns only the top layer's outputs and the final state. To look inside
(the gradient reaching each layer's h_t, a unit's activation, a gate's value) a ``Tracer`` observes
the layer's own reference loop (``Recurrent.observe``: ``rnnkit.layers.reference``) and keeps, for
every layer and direction:

    h_1..h_T (and c_1..c_T), the input projections, optionally the gate activations, and, in
    ``graph`` mode, the very tensors the computation went through, so that autograd can give
    dL/dh_t and dL/dc_t at each of them.

While the tracer is open, any model that calls its recurrent stacks is traced through its own
forward (embedding, head and loss included), with nothing model-specific here; a model with several
stacks (the tagger's character and word stacks) has every one traced.

Two ways to run a layer-direction (``method``):

    "autograd"  the cell's ``step`` per step (the equations as plain ops). Used for the autograd
                and native backends: torch's fused kernels keep no per-step state, and the three
                backends compute the same function (tests/layers checks it).
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

from contextlib import ExitStack
from dataclasses import dataclass, field

import torch
from torch import Tensor
from torch.nn.utils.rnn import PackedSequence

from rnnkit.cells import Cell
from rnnkit.layers import Observer, Recurrent, Stack, StackObserver
from rnnkit.layers.sequence import reverse_time

METHODS = ("autograd", "fused")


@dataclass
class LayerTrace:
    """One layer and direction of a traced run. Time runs in the direction's own reading order
    (for the reverse direction, step 1 read the last input); ``in_time_order`` maps back.

    Shapes: h (T, B, h size) = h_1..h_T; c (T, B, H); h0, c0; x_proj (T, B, G*H) = the cell's input
    projection; gates {name: (T, B, H)}. All detached. h_nodes / c_nodes: the T graph tensors
    (graph mode). ``weights``: the cell's parameters; ``stack``: the stack's name in a model with
    several (else "").
    """

    layer: int
    direction: int
    h: Tensor
    c: Tensor | None
    h0: Tensor
    c0: Tensor | None
    x_proj: Tensor
    weights: tuple
    reverse: Tensor | None = None  # the (T, B) reversal index of a reverse direction with lengths
    gates: dict[str, Tensor] = field(default_factory=dict)
    h_nodes: list[Tensor] = field(default_factory=list)
    c_nodes: list[Tensor] = field(default_factory=list)
    cell: Cell | None = None
    stack: str = ""

    @property
    def name(self) -> str:
        name = f"layer {self.layer + 1}" + (" reverse" if self.direction else "")
        return f"{self.stack} {name}" if self.stack else name

    def h_prev(self) -> Tensor:
        """h_0..h_{T-1}, (T, B, h size)."""
        return torch.cat((self.h0.unsqueeze(0), self.h[:-1]))

    def c_prev(self) -> Tensor | None:
        return None if self.c is None else torch.cat((self.c0.unsqueeze(0), self.c[:-1]))

    def in_time_order(self, x: Tensor) -> Tensor:
        """(T, B, ...) in reading order -> in the input's time order (identity going forwards)."""
        return x if self.direction == 0 else reverse_time(x, self.reverse)


class Tracer:
    """While open, every call of the traced stacks runs step by step and records a ``LayerTrace``
    per layer and direction in ``self.traces`` (per stack: index k = layer * dirs + direction; stacks
    in the order they last ran); outputs and final states are those of the layers' own forward.

    Args:
        target: a ``Recurrent`` stack, or a model: every ``Recurrent`` stack inside it is traced.
        gates: also record the gate activations (``Cell.gates``); autograd method only.
        graph: keep the graph tensors h_t, c_t (``h_nodes``, ``c_nodes``) for autograd.
        method: "autograd" or "fused" (see the module docstring). "fused" needs full-length
            sequences (no ``lengths``).

    Raises:
        ValueError: no Recurrent stack, an unknown method, gates with "fused", a PackedSequence
            input, lengths with "fused".
    """

    def __init__(self, target, gates: bool = False, graph: bool = False, method: str = "autograd"):
        self.stacks = find_stacks(target)
        if not self.stacks:
            raise ValueError(f"trace: expected a rnnkit Recurrent layer, got {type(target).__name__}")
        if method not in METHODS:
            raise ValueError(f"trace: expected method in {METHODS}, got {method!r}")
        if gates and method != "autograd":
            raise ValueError("trace: expected method='autograd' to record gates, got 'fused'")
        self.record_gates, self.graph, self.method = gates, graph, method
        self._runs: dict[str, list[LayerTrace]] = {}
        self._exit = ExitStack()

    @property
    def traces(self) -> list[LayerTrace]:
        return [trace for run in self._runs.values() for trace in run]

    def __enter__(self) -> Tracer:
        named = len(self.stacks) > 1
        with ExitStack() as stack:
            for name, layer in self.stacks:
                stack.enter_context(layer.observe(_StackRecorder(self, name if named else "", layer)))
            self._exit = stack.pop_all()
        return self

    def __exit__(self, *exc) -> None:
        self._exit.close()


class _StackRecorder(StackObserver):
    """One stack's observer: a new call starts a new run of traces."""

    def __init__(self, tracer: Tracer, name: str, layer: Recurrent):
        self.tracer, self.name, self.cell = tracer, name, layer.cell

    def check(self, x, lengths) -> None:
        if isinstance(x, PackedSequence):
            raise ValueError("trace: expected a padded tensor input, got a PackedSequence")
        if lengths is not None and self.tracer.method == "fused":
            raise ValueError("trace: expected no lengths with method='fused' (one step per call), got lengths")

    def layer(self, layer: int, direction: int, reverse: Tensor | None) -> Observer:
        runs = self.tracer._runs
        if layer == 0 and direction == 0:  # a new call: it replaces the stack's last run
            runs.pop(self.name, None)
            runs[self.name] = []
        return _LayerRecorder(self.tracer, runs[self.name], layer, direction, reverse, self.cell, self.name)


class _LayerRecorder(Observer):
    def __init__(self, tracer: Tracer, run: list, layer: int, direction: int, reverse, cell: Cell, stack: str):
        self.gates, self.fused_steps, self.graph = tracer.record_gates, tracer.method == "fused", tracer.graph
        self.run, self.where = run, dict(layer=layer, direction=direction, reverse=reverse, cell=cell, stack=stack)
        self.h_vals, self.c_vals, self.h_nodes, self.c_nodes = [], [], [], []
        self.gate_vals: dict[str, list[Tensor]] = {}

    def begin(self, x_proj, h0, c0, w):
        self.x_proj, self.h0, self.c0, self.w = x_proj, h0, c0, w

    def step(self, t, h_new, c_new, gates):
        for name, value in gates.items():
            self.gate_vals.setdefault(name, []).append(value)
        if self.graph:
            if c_new is not None and not self.fused_steps:
                # step used c_t for h_t already; a copy carried forward has, as its gradient,
                # dL/dc_t along the cell-state path only (h_t held fixed). (The fused step's c_n
                # output is such a separate tensor already.)
                c_new = c_new.clone()
            self.h_nodes.append(h_new)
            if c_new is not None:
                self.c_nodes.append(c_new)
        return c_new

    def carried(self, h, c):
        self.h_vals.append(h.detach())
        if c is not None:
            self.c_vals.append(c.detach())

    def end(self):
        trace = LayerTrace(
            h=torch.stack(self.h_vals),  # (T, B, H)
            c=torch.stack(self.c_vals) if self.c_vals else None,
            h0=self.h0.detach(),
            c0=None if self.c0 is None else self.c0.detach(),
            x_proj=self.x_proj.detach(),
            weights=self.w,
            gates={name: torch.stack(values) for name, values in self.gate_vals.items()},
            h_nodes=self.h_nodes,
            c_nodes=self.c_nodes,
            **self.where,
        )
        trace.reverse = trace.reverse if trace.direction else None
        self.run.append(trace)


def find_stacks(model) -> list[tuple[str, Stack]]:
    """Every rnnkit stack (a ``Recurrent``, or an ``rnnkit.nn`` drop-in) in ``model`` (or ``model``
    itself), with its module name."""
    if isinstance(model, Stack):
        return [("", model)]
    if not isinstance(model, torch.nn.Module):
        return []
    return [(name, m) for name, m in model.named_modules() if isinstance(m, Stack)]


def find_recurrent(model) -> Recurrent:
    """The one ``Recurrent`` stack inside ``model`` (or ``model`` itself)."""
    found = find_stacks(model)
    if len(found) != 1:
        raise ValueError(
            f"model: expected a model with exactly one rnnkit Recurrent stack, got {len(found)} in "
            f"{type(model).__name__}"
        )
    return found[0][1]
