"""Gradient flow through time: how strongly the loss at the last step reaches back to each state.

For a batch of sequences of length T, with L_T the loss at the last step (summed over the batch,
so every example contributes its own gradient), ``gradient_flow`` measures for every layer:

    grad_h[t]     = mean over the batch of || dL_T / dh_t ||            t = T..1
    grad_c[t]     = mean over the batch of || dL_T / dc_t ||            LSTM: along the cell state
    jacobian_h[t] = mean over examples of || dh_t / dh_{t-1} ||_2       the largest singular value
    jacobian_c[t] = mean over examples of || dc_t / dc_{t-1} ||_2       LSTM: = max_j f_t[j]

dL_T/dh_t is the total derivative: through the layer above at step t and through step t+1 (for
the LSTM also through c_{t+1}). dL_T/dc_t is taken with h_t held fixed, i.e. the gradient that the
cell state carries back (docs/EQUATIONS.md, section 7). The gradient of the state at distance d from
the end carries the product of d step Jacobians, so grad_h falls roughly like ||J||^d: that is the
vanishing gradient, made visible. The step Jacobians are those of the cell equations at the
recorded states (autograd on ``Cell.step``), within a layer (the layer's input held fixed);
their largest singular values are exact up to 64 units and from power iteration above (``spectral_norms``).

A model with several recurrent stacks (the tagger's character and word stacks) gets a row per
layer-direction of every stack. Every backend works. The fused backend computes the state gradients
from its own backward pass (``Tracer`` method "fused"); the autograd and native ones through autograd
on the reference step (torch's native kernels keep no per-step state). The tests check the numbers
against plain autograd.
"""

from __future__ import annotations

import csv
import math
import warnings
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor

from rnnkit.checkpoint.atomic import atomic_file, write_figure
from rnnkit.diagnostics.trace import LayerTrace, Tracer, find_stacks
from rnnkit.models.evaluating import evaluating

#: One colour per cell wherever cells are compared in a plot.
CELL_COLOURS = {
    "rnn": "tab:red",
    "lstm": "tab:blue",
    "gru": "tab:green",
    "indrnn": "tab:purple",
    "lnlstm": "tab:cyan",
    "lngru": "tab:olive",
    "mingru": "tab:orange",
    "minlstm": "tab:brown",
}


def cell_colour(cell: str) -> str:
    """The plot colour of a cell: its own where it has one, else black (a newly registered cell
    plots without an edit here)."""
    return CELL_COLOURS.get(cell, "black")


#: Upper bound on the floats of one chunk of stacked Jacobians (rows * H * H), to bound memory.
_JACOBIAN_CHUNK_FLOATS = 1 << 24
#: Up to this many units, step Jacobians are formed and decomposed exactly; above, power iteration.
_EXACT_UP_TO = 64


@dataclass
class GradientFlow:
    """What ``gradient_flow`` measured. Rows are layer-directions (``layers`` names them), columns
    are time steps t = 1..T of the input (so column T-1 is the last step, distance 0).

    Shapes: grad_h, jacobian_h (K, T); grad_c, jacobian_c (K, T) for LSTM, else None;
    jacobian_* are None when no Jacobians were asked for."""

    cell: str
    method: str
    layers: list[str]
    grad_h: Tensor
    grad_c: Tensor | None
    jacobian_h: Tensor | None
    jacobian_c: Tensor | None
    loss: float  # L_T per example, for reference

    @property
    def steps(self) -> int:
        return self.grad_h.shape[1]

    def decade_change(self, k: int = -1) -> float:
        """log10(grad_h at t=1 / grad_h at t=T) for layer-direction ``k`` (negative: it falls).
        -inf if the gradient at t=1 is exactly zero."""
        g = self.grad_h[k].double()
        first, last = float(g[0]), float(g[-1])
        if last == 0.0:
            return math.nan
        return -math.inf if first == 0.0 else math.log10(first / last)

    def summary(self) -> str:
        """One line, e.g. 'lstm: gradient falls by 10^1.3 over 49 steps (layer 2; layer 1: 10^1.6)'."""
        k_top = len(self.layers) - 1
        if self.layers[k_top].endswith("reverse"):  # the top forward direction is the headline
            k_top -= 1
        g = self.grad_h[k_top]
        detail = [f"{self.layers[k_top]}: ||dL_T/dh_t|| {float(g[-1]):.2e} at t=T, {float(g[0]):.2e} at t=1"]
        detail += [f"{name}: {_change(self.decade_change(k))}" for k, name in enumerate(self.layers) if k != k_top]
        head = f"{self.cell}: gradient {_change(self.decade_change(k_top))} over {self.steps - 1} steps"
        return f"{head} ({'; '.join(detail)})"

    def rows(self, label: str = "") -> list[dict]:
        """One dict per layer-direction and step (CSV rows)."""
        out = []
        T = self.steps
        for k, name in enumerate(self.layers):
            for t in range(T, 0, -1):
                row = {"model": label or self.cell, "layer": name, "t": t, "distance": T - t}
                row["grad_h"] = float(self.grad_h[k, t - 1])
                row["grad_c"] = "" if self.grad_c is None else float(self.grad_c[k, t - 1])
                row["jacobian_h"] = "" if self.jacobian_h is None else float(self.jacobian_h[k, t - 1])
                row["jacobian_c"] = "" if self.jacobian_c is None else float(self.jacobian_c[k, t - 1])
                out.append(row)
        return out


def gradient_flow(model, batch, method: str = "auto", jacobian_examples: int = 8, loss_fn=None) -> GradientFlow:
    """Measure gradient flow through time on one batch (the model is run in eval mode, no dropout).

    Args:
        model: an rnnkit model keeping the contract ``forward(inputs, state, targets[, lengths])
            -> (out, loss, state)`` with ``Recurrent`` stacks inside (every one is traced), or a
            ``Recurrent`` itself (or an ``rnnkit.nn`` drop-in): then L_T = 0.5 ||y_T||^2 per example,
            a stand-in loss on the last output; or any module with rnnkit stacks inside (a user's
            own model on ``rnnkit.nn.LSTM``) together with ``loss_fn``.
        batch: (inputs, targets) or (inputs, targets, lengths). For a model with an output per
            step (out (B, T, V), e.g. a language model), L_T is the cross-entropy of the last
            step; for a many-to-one model, its loss (which reads the sequence at its end).
        method: "auto" (the fused backend's own backward where every stack of the model uses it,
            else autograd), "autograd" or "fused".
        jacobian_examples: examples of the batch (the first ones) whose step Jacobians are
            formed and measured; 0 skips the Jacobians.
        loss_fn: ``loss_fn(model, inputs, targets) -> L_T`` (a scalar summed over the batch), the
            loss of the LAST step only (distances count from it): e.g. the cross-entropy of a
            language model's last prediction. Overrides the model's own contract.

    Returns:
        GradientFlow.

    Raises:
        ValueError: a malformed batch, sequences of different lengths (the distance from "the
            last step" must be the same for all), an unknown method, no Recurrent stack.
    """
    stacks = [layer for _, layer in find_stacks(model)]
    if not stacks:
        raise ValueError(f"model: expected a model with an rnnkit Recurrent stack, got {type(model).__name__}")
    if method == "auto":
        method = "fused" if all(layer.resolved_backend() == "fused" for layer in stacks) else "autograd"
    inputs, targets, lengths = _unpack(batch)
    if lengths is not None:
        T = inputs.shape[1] if isinstance(inputs, Tensor) and inputs.dim() >= 2 else -1
        if bool((torch.as_tensor(lengths) != T).any()):
            raise ValueError(
                f"batch: expected every sequence to have all T={T} steps (distances are counted from one "
                f"last step), got lengths {torch.as_tensor(lengths).tolist()}"
            )
        lengths = None  # all full: the same run without them
    with evaluating(model):
        with torch.enable_grad(), Tracer(model, graph=True, method=method) as tracer:
            if loss_fn is not None:
                loss_T = loss_fn(model, inputs, targets)
            elif model is stacks[0]:
                out, _ = model(inputs)
                last = out[-1] if not model.config.batch_first else out[:, -1]
                loss_T = 0.5 * last.pow(2).sum()
            else:
                out, loss, _ = model(model.batch_type(inputs, targets))
                loss_T = _last_step_loss(out, loss, targets)
            traces = tracer.traces
            nodes = [n for tr in traces for n in tr.h_nodes + tr.c_nodes]
            grads = torch.autograd.grad(loss_T, nodes, allow_unused=True)

    # In a model mixing cells (a GRU stack below an LSTM one), rows without a cell state are NaN in
    # grad_c / jacobian_c (a gap in the plot, empty in the CSV would mislead less than a zero).
    grad_h, grad_c, pos = [], [], 0
    any_c = any(tr.c_nodes for tr in traces)
    for tr in traces:
        for store, part in ((grad_h, tr.h_nodes), (grad_c, tr.c_nodes)):
            if not part:
                if store is grad_c and any_c:
                    grad_c.append(torch.full_like(grad_h[-1], math.nan))
                continue
            g = [torch.zeros_like(n) if d is None else d for n, d in zip(part, grads[pos : pos + len(part)])]
            pos += len(part)
            norms = tr.in_time_order(torch.stack(g)).norm(dim=-1)  # (T, B, H) -> (T, B)
            store.append(norms.mean(1))  # (T,)
    jac_h, jac_c = (None, None)
    if jacobian_examples > 0:
        pairs = [step_jacobian_norms(tr.cell, tr, jacobian_examples) for tr in traces]
        jac_h = torch.stack([p[0].flip(0) if tr.direction else p[0] for tr, p in zip(traces, pairs)])
        if any(p[1] is not None for p in pairs):
            jac_c = torch.stack(
                [
                    torch.full_like(p[0], math.nan) if p[1] is None else (p[1].flip(0) if tr.direction else p[1])
                    for tr, p in zip(traces, pairs)
                ]
            )
    B = traces[0].h.shape[1]
    return GradientFlow(
        cell=traces[-1].cell.name,  # the stack that ran last: the one the loss reads
        method=method,
        layers=[tr.name for tr in traces],
        grad_h=torch.stack(grad_h).cpu(),
        grad_c=torch.stack(grad_c).cpu() if grad_c else None,
        jacobian_h=None if jac_h is None else jac_h.cpu(),
        jacobian_c=None if jac_c is None else jac_c.cpu(),
        loss=float(loss_T.detach()) / B,
    )


def step_jacobian_norms(cell, trace: LayerTrace, examples: int = 8) -> tuple[Tensor, Tensor | None]:
    """Spectral norms of the step Jacobians dh_t/dh_{t-1} (and dc_t/dc_{t-1}) of one traced layer,
    averaged over its first ``examples`` rows. Returns (T,) tensors, in reading order.

    The T steps are independent once the states are recorded, so they are stacked into one batch
    of T * examples rows, each row its own small map h_{t-1} -> h_t (``spectral_norms``)."""
    w = tuple(None if p is None else p.detach() for p in trace.weights)
    T, B, H = trace.h.shape
    E = max(1, min(examples, B))
    x_proj = trace.x_proj[:, :E].reshape(T * E, -1)  # (T*E, G*H)
    h_prev = trace.h_prev()[:, :E].reshape(T * E, H)
    c_prev = trace.c_prev()
    c_prev = None if c_prev is None else c_prev[:, :E].reshape(T * E, -1)
    jac_h = spectral_norms(lambda h: cell.step(x_proj, h, c_prev, w)[0], h_prev)
    jac_c = None
    if c_prev is not None:
        jac_c = spectral_norms(lambda c: cell.step(x_proj, h_prev, c, w)[1], c_prev)
        jac_c = jac_c.view(T, E).mean(1)
    return jac_h.view(T, E).mean(1), jac_c


def spectral_norms(f, x: Tensor, exact: bool | None = None, iterations: int = 100, rtol: float = 1e-6) -> Tensor:
    """The largest singular value of each row's Jacobian, for a map f: (R, H) -> (R, H) whose rows
    are independent (row r of f(x) depends on row r of x only). Returns (R,).

    ``exact`` (default: H <= 64) forms every Jacobian (H backward passes, H x H each) and takes its
    SVD. Otherwise power iteration on J^T J, all rows at once, one forward-mode and one reverse-mode
    product per iteration: ||J v|| with ||v|| = 1 rises to sigma_max, and the loop stops when no row
    moved by more than ``rtol`` (relative) or after ``iterations``. Forming J costs H products per
    example instead of 2 per iteration: at H = 256 ten times longer than 100 iterations, which come
    within 0.5% of the exact value for the worst of 400 LSTM steps and 1e-4 on average (measured;
    the worst case is a near-tie of the top singular values, where the error hardly matters)."""
    R, H = x.shape
    if exact is None:
        exact = H <= _EXACT_UP_TO
    x = x.detach()
    if exact:
        rows = max(1, _JACOBIAN_CHUNK_FLOATS // (H * H))
        norms = []
        for lo in range(0, R, rows):
            chunk = x[lo : lo + rows]
            # Rows are independent, so the Jacobian of the row sum holds each row's own Jacobian.
            J = torch.autograd.functional.jacobian(lambda v, lo=lo: f_rows(f, x, lo, v).sum(0), chunk, vectorize=True)
            norms.append(torch.linalg.matrix_norm(J.transpose(0, 1), ord=2))  # (H, rows, H) -> (rows,)
        return torch.cat(norms)
    _, vjp = torch.func.vjp(f, x)
    g = torch.Generator(device=x.device).manual_seed(0)
    v = torch.randn(x.shape, generator=g, dtype=x.dtype, device=x.device)
    v = v / v.norm(dim=-1, keepdim=True)
    sigma = torch.zeros(R, dtype=x.dtype, device=x.device)
    with warnings.catch_warnings():  # torch's first forward-mode call scripts its decompositions, and warns
        warnings.filterwarnings("ignore", message=r".*torch\.jit\.script.*deprecated", category=DeprecationWarning)
        for _ in range(iterations):
            Jv = torch.func.jvp(f, (x,), (v,))[1]  # (R, H)
            JtJv = vjp(Jv)[0]  # (R, H)
            new = Jv.norm(dim=-1)  # a lower bound on sigma_max, rising to it
            size = JtJv.norm(dim=-1, keepdim=True)
            v = torch.where(size > 0, JtJv / size.clamp_min(torch.finfo(x.dtype).tiny), v)
            done = bool(((new - sigma).abs() <= rtol * new).all())
            sigma = new
            if done:
                break
    return sigma


def f_rows(f, x: Tensor, lo: int, chunk: Tensor) -> Tensor:
    """f on x with rows lo.. replaced by ``chunk``, restricted to those rows (f needs every row of its
    inputs, e.g. a step with fixed per-row inputs; the others are held at their recorded values)."""
    full = torch.cat((x[:lo], chunk, x[lo + chunk.shape[0] :]))
    return f(full)[lo : lo + chunk.shape[0]]


def write_csv(curves: list[tuple[str, GradientFlow]], path) -> Path:
    """All curves' rows in one CSV: model, layer, t, distance, grad_h, grad_c, jacobian_h, jacobian_c."""
    path = Path(path)
    rows = [row for label, flow in curves for row in flow.rows(label)]
    with atomic_file(path, text=True) as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def plot_gradient_flow(
    curves: list[tuple[str, GradientFlow]], path, title: str = "", styles: list[dict] | None = None
) -> Path:
    """PNG: ||dL_T/dh_t|| (log scale) against the distance T - t, one line per layer of each curve
    (LSTM: dL_T/dc_t dotted), and below it the step Jacobian norms ||dh_t/dh_{t-1}|| (and ||dc_t/dc_{t-1}||).
    The dotted LSTM lines are drawn for a single curve only, to keep a comparison readable.

    ``styles``: one dict of matplotlib line settings per curve (e.g. a colour per cell and a dash per
    training state); by default every line gets its own colour."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path = Path(path)
    fig, (ax_g, ax_j) = plt.subplots(2, 1, figsize=(8, 7), sharex=True, gridspec_kw={"height_ratios": [2, 1]})
    colours = iter(plt.rcParams["axes.prop_cycle"].by_key()["color"] * 10)
    for index, (label, flow) in enumerate(curves):
        base = dict(styles[index]) if styles else {}
        T = flow.steps
        distance = list(range(T))  # column T-1-d is distance d
        for k, name in enumerate(flow.layers):
            style = {"lw": 1.5, **base}
            if "color" not in base:
                style["color"] = next(colours)
            if len(flow.layers) > 1:
                style["alpha"] = 0.45 + 0.55 * (k + 1) / len(flow.layers)
            tag = f"{label}, {name}" if len(flow.layers) > 1 else label
            ax_g.plot(distance, _floor(flow.grad_h[k].flip(0)), label=tag, **style)
            if flow.grad_c is not None and len(curves) == 1:
                dotted = {**style, "ls": ":"}
                ax_g.plot(distance, _floor(flow.grad_c[k].flip(0)), label=f"{tag}: dL_T/dc_t", **dotted)
            if flow.jacobian_h is not None:
                ax_j.plot(distance, flow.jacobian_h[k].flip(0), **style)
            if flow.jacobian_c is not None and len(curves) == 1:
                ax_j.plot(distance, flow.jacobian_c[k].flip(0), **{**style, "ls": ":"})
    ax_g.set_yscale("log")
    ax_g.set_ylabel("||dL_T / dh_t||  (batch mean)")
    ax_g.set_title(title or "gradient flow through time")
    ax_g.grid(alpha=0.3, which="both")
    ax_g.legend(fontsize=7)
    ax_j.set_yscale("log")
    ax_j.set_ylabel("||dh_t / dh_{t-1}||_2" + ("  (dotted: dc_t/dc_{t-1})" if len(curves) == 1 else ""))
    ax_j.set_xlabel("distance in time from the last step, T - t")
    ax_j.grid(alpha=0.3, which="both")
    fig.tight_layout()
    return write_figure(fig, path, dpi=90)


# ----- helpers ------------------------------------------------------------------------------------
def _floor(values: Tensor) -> Tensor:
    """Exact zeros (a gradient that vanished completely, or dL_T/dc_T, which reaches L_T only through
    h_T) left out of a log plot as gaps rather than squashing every other value."""
    return values.masked_fill(values == 0, float("nan"))


def _unpack(batch):
    if not isinstance(batch, (tuple, list)) or len(batch) not in (2, 3):
        raise ValueError(
            f"batch: expected (inputs, targets) or (inputs, targets, lengths), got {type(batch).__name__}"
            + (f" of {len(batch)}" if isinstance(batch, (tuple, list)) else "")
        )
    inputs, targets = batch[0], batch[1]
    lengths = batch[2] if len(batch) == 3 else None
    return inputs, targets, lengths


def _last_step_loss(out: Tensor, loss: Tensor | None, targets) -> Tensor:
    """L_T summed over the batch: the last step's cross-entropy for per-step outputs (B, T, V),
    else the model's (mean) loss times B."""
    if out.dim() == 3 and isinstance(targets, Tensor) and targets.dim() == 2:
        return F.cross_entropy(out[:, -1], targets[:, -1].long(), reduction="sum")
    if loss is None:
        raise ValueError("batch: expected targets the model computes a loss with, got a model returning no loss")
    return loss * out.shape[0]


def _change(decades: float) -> str:
    if math.isnan(decades):
        return "is zero at the last step"
    if decades == -math.inf:
        return "vanishes completely"
    if decades <= 0:
        return f"falls by 10^{-decades:.1f}"
    return f"grows by 10^{decades:.1f}"
