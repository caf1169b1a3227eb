"""gradient_flow: its numbers equal those of plain autograd, computed two independent ways, for
every cell and backend; the step Jacobian norms equal the closed forms; report, CSV, plot, errors."""

import csv
import math
import re

import pytest
import torch
import torch.nn.functional as F

from rnnkit.diagnostics.gradient_flow import (
    GradientFlow,
    gradient_flow,
    plot_gradient_flow,
    spectral_norms,
    write_csv,
)
from rnnkit.diagnostics.memory_tasks import adding_problem
from rnnkit.diagnostics.trace import Tracer
from rnnkit.layers import Recurrent, RecurrentConfig
from rnnkit.models import LanguageModel, LanguageModelConfig, SequenceClassifier, SequenceClassifierConfig, TokenBatch

from ..variants import VARIANTS, cell_of, variant_params

V, B, T, H = 7, 3, 6, 5


def lm(cell: str = "lstm", backend: str = "autograd", layers: int = 2, **overrides) -> LanguageModel:
    torch.manual_seed(0)
    cfg = LanguageModelConfig.from_dict(
        dict(vocab_size=V, cell=cell, hidden_size=H, num_layers=layers, embedding_size=4, backend=backend, **overrides)
    )
    model = LanguageModel(cfg).double()
    with torch.no_grad():  # non-zero biases, larger recurrent weights: gradients that differ per step
        for name, p in model.rnn.named_parameters():
            if name.startswith("bias"):
                p.uniform_(-0.5, 0.5)
            else:
                p.mul_(1.5)
    return model.eval()


def lm_batch(seed: int = 1):
    x = torch.randint(0, V, (B, T + 1), generator=torch.Generator().manual_seed(seed))
    return x[:, :-1], x[:, 1:]


def last_step_ce(out, loss, targets):
    return F.cross_entropy(out[:, -1], targets[:, -1], reduction="sum")


def suffix_reference(model, inputs, targets, loss_fn):
    """Plain autograd through the model's own forward: the state s_t = (h_t, c_t) of every layer
    after step t is all that steps t+1..T see, so dL_T/ds_t is the gradient of L_T run from s_t as
    leaves. That is the total dL_T/dh_t for the top layer (a lower layer's h_t also reaches L_T
    through the layer above at step t, which this holds fixed) and dL_T/dc_t for every layer.
    For t = 1..T-1; returns norms (L, T-1) of h and c (None without a cell state)."""
    gh, gc = [], []
    for t in range(1, inputs.shape[1]):
        with torch.no_grad():
            _, _, s = model(model.batch_type(inputs[:, :t]))
        leaves = tuple(p.clone().requires_grad_() for p in (s if isinstance(s, tuple) else (s,)))
        state = leaves if len(leaves) == 2 else leaves[0]
        y = targets[:, t:] if targets.dim() == 2 else targets  # per-step targets follow the inputs
        out, loss, _ = model(model.batch_type(inputs[:, t:], y), state)
        grads = torch.autograd.grad(loss_fn(out, loss), leaves)
        gh.append(grads[0].norm(dim=-1).mean(1))  # (L,)
        if len(grads) == 2:
            gc.append(grads[1].norm(dim=-1).mean(1))
    return torch.stack(gh, 1), (torch.stack(gc, 1) if gc else None)


def stepwise_reference(model, inputs, targets):
    """The language model rebuilt from one-layer ``Recurrent`` copies (same backend and weights), each
    run one step per call with its state carried: the backend's own forward and backward at every
    step. dL_T/dh_t is then the gradient of step t's output (to the layer above) plus that of its
    carried state (to step t+1); dL_T/dc_t that of the carried c. Returns norms (L, T) of h and c."""
    cfg = model.rnn.config
    x = model.embedding(inputs).transpose(0, 1)  # (T, B, E)
    outs, states = [], []
    for index in range(cfg.num_layers):
        single = Recurrent(RecurrentConfig(**{**cfg.__dict__, "num_layers": 1, "input_size": x.shape[-1]})).double()
        names = [p.kind for p in single.cell.parameters(x.shape[-1], cfg.hidden_size)]
        single.load_state_dict({f"{n}_l0": w for n, w in zip(names, model.rnn.layer_weights(index))})
        state, ys, carried = None, [], []
        for t in range(T):
            y, state = single(x[t : t + 1], state)
            parts = state if isinstance(state, tuple) else (state,)
            for tensor in (y, *parts):
                tensor.retain_grad()
            ys.append(y)
            carried.append(parts)
        outs.append(ys)
        states.append(carried)
        x = torch.cat(ys)
    F.cross_entropy(model.head(x[-1]), targets[:, -1], reduction="sum").backward()

    def grad(tensor):
        return torch.zeros_like(tensor) if tensor.grad is None else tensor.grad

    gh = [[(grad(y)[0] + grad(s[0])[0]).norm(dim=-1).mean() for y, s in zip(ys, st)] for ys, st in zip(outs, states)]
    gc = [[grad(s[1])[0].norm(dim=-1).mean() for s in st] for st in states] if len(states[0][0]) == 2 else None
    return torch.tensor(gh, dtype=torch.float64), None if gc is None else torch.tensor(gc, dtype=torch.float64)


def manual_lstm_reference(model, inputs, targets):
    """A hand-written LSTM language model on the same weights: every h_t keeps its gradient."""
    x = model.embedding(inputs).transpose(0, 1)  # (T, B, E)
    nodes = []
    for layer in range(model.config.rnn.num_layers):
        w_ih, w_hh, b_ih, b_hh = model.rnn.layer_weights(layer)
        h = c = x.new_zeros(B, H)
        outs = []
        for t in range(T):
            i, f, g, o = (x[t] @ w_ih.t() + b_ih + h @ w_hh.t() + b_hh).chunk(4, dim=1)
            c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
            h = torch.sigmoid(o) * torch.tanh(c)
            h.retain_grad()
            outs.append(h)
        nodes.append(outs)
        x = torch.stack(outs)
    logits = model.head(x[-1])  # (B, V): the last step only
    F.cross_entropy(logits, targets[:, -1], reduction="sum").backward()
    return torch.stack([torch.stack([h.grad.norm(dim=-1).mean() for h in outs]) for outs in nodes])  # (L, T)


# ----- the numbers ------------------------------------------------------------------------------
@pytest.mark.parametrize("backend", ["autograd", "fused", "native"])
def test_lstm_matches_a_hand_written_lstm_under_autograd(backend):
    model = lm("lstm", backend)
    inputs, targets = lm_batch()
    flow = gradient_flow(model, (inputs, targets))
    assert flow.method == ("fused" if backend == "fused" else "autograd")
    assert flow.layers == ["layer 1", "layer 2"] and flow.grad_h.shape == (2, T)
    want = manual_lstm_reference(model, inputs, targets)
    assert torch.allclose(flow.grad_h, want, rtol=1e-9, atol=1e-12)
    assert flow.grad_h.min() > 0


#: The registered variants a language model's configuration can express (all its options are fields).
LM_VARIANTS = {k: v for k, v in VARIANTS.items() if all(hasattr(LanguageModelConfig().rnn, f) for f in v)}


@pytest.mark.parametrize("variant", variant_params(LM_VARIANTS))
@pytest.mark.parametrize("backend", ["autograd", "fused", "native"])
def test_every_cell_and_backend_matches_autograd_step_by_step(variant, backend):
    if backend == "native" and cell_of(variant).native is None:
        backend = "auto"  # torch.nn has no such cell (the reset-before GRU)
    model = lm(backend=backend, **variant)
    inputs, targets = lm_batch()
    flow = gradient_flow(model, (inputs, targets))
    want_h, want_c = stepwise_reference(model, inputs, targets)
    assert torch.allclose(flow.grad_h, want_h, rtol=1e-9, atol=1e-15)
    # and through the carried state, with the model's own forward
    top_h, all_c = suffix_reference(model, inputs, targets, lambda out, loss: last_step_ce(out, loss, targets))
    assert torch.allclose(flow.grad_h[-1, :-1], top_h[-1], rtol=1e-9, atol=1e-15)
    if model.rnn.cell.has_cell_state:
        assert torch.allclose(flow.grad_c, want_c, rtol=1e-9, atol=1e-15)
        assert torch.allclose(flow.grad_c[:, :-1], all_c, rtol=1e-9, atol=1e-15)
        assert torch.equal(flow.grad_c[:, -1], torch.zeros(2, dtype=flow.grad_c.dtype))  # c_T reaches L_T via h_T
    else:
        assert flow.grad_c is None and flow.jacobian_c is None


def test_fused_backward_and_autograd_give_the_same_flow():
    model = lm("gru", "fused", reset_after=False)
    batch = lm_batch()
    fused, ref = gradient_flow(model, batch), gradient_flow(model, batch, method="autograd")
    assert (fused.method, ref.method) == ("fused", "autograd")
    assert torch.allclose(fused.grad_h, ref.grad_h, rtol=1e-10)
    assert torch.allclose(fused.jacobian_h, ref.jacobian_h)


def test_a_many_to_one_model_on_the_adding_problem():
    torch.manual_seed(0)
    cfg = SequenceClassifierConfig.from_dict(
        dict(task="regress", input_size=2, hidden_size=H, num_layers=2, cell="lstm")
    )
    model = SequenceClassifier(cfg).double().eval()
    x, y = adding_problem(B, T, torch.Generator().manual_seed(0))
    x, y = x.double(), y.double()
    flow = gradient_flow(model, (x, y))
    top_h, all_c = suffix_reference(model, x, y, lambda out, loss: loss * B)
    assert torch.allclose(flow.grad_h[-1, :-1], top_h[-1], rtol=1e-9)
    assert torch.allclose(flow.grad_c[:, :-1], all_c, rtol=1e-9)
    # full lengths are the same run; a shorter sequence has no common "last step"
    same = gradient_flow(model, (x, y, torch.full((B,), T)))
    assert torch.allclose(same.grad_h, flow.grad_h)
    with pytest.raises(ValueError, match=re.escape(f"batch: expected every sequence to have all T={T} steps")):
        gradient_flow(model, (x, y, torch.tensor([T, T - 1, T])))


def test_bidirectional_layers_are_reported_in_input_time_order():
    torch.manual_seed(0)
    cfg = SequenceClassifierConfig.from_dict(
        dict(vocab_size=V, num_classes=3, hidden_size=H, bidirectional=True, pooling="mean")
    )
    model = SequenceClassifier(cfg).double().eval()
    x = torch.randint(0, V, (B, T), generator=torch.Generator().manual_seed(2))
    y = torch.tensor([0, 1, 2])
    flow = gradient_flow(model, (x, y), jacobian_examples=0)
    assert flow.layers == ["layer 1", "layer 1 reverse"]
    # reference: the same stack run by hand per direction, h_t retaining its gradient
    w = [model.rnn.layer_weights(0, d) for d in (0, 1)]
    emb = model.embedding(x).transpose(0, 1)
    grads = []
    outs = []
    for d in (0, 1):
        seq = emb if d == 0 else emb.flip(0)
        h = c = seq.new_zeros(B, H)
        hs = []
        for t in range(T):
            i, f, g, o = (seq[t] @ w[d][0].t() + w[d][2] + h @ w[d][1].t() + w[d][3]).chunk(4, dim=1)
            c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
            h = torch.sigmoid(o) * torch.tanh(c)
            h.retain_grad()
            hs.append(h)
        grads.append(hs if d == 0 else hs[::-1])
        outs.append(torch.stack(hs) if d == 0 else torch.stack(hs).flip(0))
    pooled = torch.cat(outs, dim=2).mean(0)
    (F.cross_entropy(model.head(pooled), y) * B).backward()
    want = torch.stack([torch.stack([h.grad.norm(dim=-1).mean() for h in hs]) for hs in grads])
    assert torch.allclose(flow.grad_h, want, rtol=1e-9)


# ----- Jacobians ----------------------------------------------------------------------------------
def test_jacobian_norms_equal_their_closed_forms():
    inputs, targets = lm_batch()
    # Elman: dh_t/dh_{t-1} = diag(1 - h_t^2) W_hh
    model = lm("rnn", layers=1)
    flow = gradient_flow(model, (inputs, targets), jacobian_examples=2)
    _, w_hh, _, _ = model.rnn.layer_weights(0)
    h = model.rnn(model.embedding(inputs).transpose(0, 1))[0].detach()  # (T, B, H)
    J = (1 - h[:, :2] ** 2)[..., None] * w_hh  # (T, 2, H, H)
    assert torch.allclose(flow.jacobian_h[0], torch.linalg.matrix_norm(J, ord=2).mean(1))
    # LSTM: dc_t/dc_{t-1} = diag(f_t), whose norm is max_j f_t[j]
    model = lm("lstm", layers=1)
    flow = gradient_flow(model, (inputs, targets), jacobian_examples=B)
    w_ih, w_hh, b_ih, b_hh = model.rnn.layer_weights(0)
    x = model.embedding(inputs).transpose(0, 1)
    h = c = x.new_zeros(B, H)
    want_c, want_h = [], []
    for t in range(T):

        def step(h_prev, c_prev, rows=slice(None), t=t):
            a = x[t, rows] @ w_ih.t() + b_ih + h_prev @ w_hh.t() + b_hh
            i, f, g, o = a.chunk(4, dim=-1)
            c_new = torch.sigmoid(f) * c_prev + torch.sigmoid(i) * torch.tanh(g)
            return torch.sigmoid(o) * torch.tanh(c_new), c_new, torch.sigmoid(f)

        with torch.no_grad():
            J = torch.stack(
                [torch.autograd.functional.jacobian(lambda v, b=b, c=c: step(v, c[b], b)[0], h[b]) for b in range(B)]
            )  # (B, H, H), one example at a time
            h_new, c_new, f = step(h, c)
        want_h.append(torch.linalg.matrix_norm(J, ord=2).mean())
        want_c.append(f.max(dim=1).values.mean())
        h, c = h_new, c_new
    assert torch.allclose(flow.jacobian_c[0], torch.stack(want_c))
    assert torch.allclose(flow.jacobian_h[0], torch.stack(want_h))


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_power_iteration_agrees_with_the_exact_norms(cell):
    """Above 64 units the norms come from power iteration: close to the SVD of the formed Jacobians."""
    torch.manual_seed(0)
    H = 80
    model = LanguageModel(
        LanguageModelConfig.from_dict(dict(vocab_size=V, cell=cell, hidden_size=H, num_layers=1))
    ).double()
    flow = gradient_flow(model, lm_batch(), jacobian_examples=B)
    trace_flow = gradient_flow(model, lm_batch(), jacobian_examples=B, method="autograd")
    assert torch.allclose(flow.jacobian_h, trace_flow.jacobian_h)  # whichever run recorded the states
    with torch.no_grad(), Tracer(model.rnn) as tracer:
        model(TokenBatch(lm_batch()[0]))
    tr = tracer.traces[0]
    w = tuple(p.detach() for p in model.rnn.layer_weights(0))
    x_proj, h_prev = tr.x_proj.reshape(T * B, -1), tr.h_prev().reshape(T * B, H)
    c_prev = None if tr.c is None else tr.c_prev().reshape(T * B, H)

    def f(h):
        return model.rnn.cell.step(x_proj, h, c_prev, w)[0]

    exact = spectral_norms(f, h_prev, exact=True)
    power = spectral_norms(f, h_prev, exact=False)
    assert torch.allclose(power, exact, rtol=1e-2) and float(((power - exact) / exact).abs().mean()) < 1e-3
    assert bool((power <= exact * (1 + 1e-9)).all())  # a lower bound, rising to sigma_max
    assert torch.allclose(flow.jacobian_h[0], power.view(T, B).mean(1))


def test_no_jacobians_when_not_asked():
    flow = gradient_flow(lm("gru"), lm_batch(), jacobian_examples=0)
    assert flow.jacobian_h is None and flow.jacobian_c is None


# ----- reporting ----------------------------------------------------------------------------------
def fake_flow(values, cell="rnn") -> GradientFlow:
    g = torch.tensor(values, dtype=torch.float64)
    return GradientFlow(cell, "autograd", [f"layer {k + 1}" for k in range(g.shape[0])], g, None, g, None, 1.0)


def test_summary_line():
    falls = fake_flow([[1e-3, 1e-2, 1e-1, 1.0], [1e-5, 1e-3, 1e-1, 1.0]])
    assert falls.decade_change(0) == pytest.approx(-3.0)
    assert falls.summary() == (
        "rnn: gradient falls by 10^5.0 over 3 steps (layer 2: ||dL_T/dh_t|| 1.00e+00 at t=T, 1.00e-05 at t=1; "
        "layer 1: falls by 10^3.0)"
    )
    assert fake_flow([[100.0, 10.0, 1.0]]).summary().startswith("rnn: gradient grows by 10^2.0 over 2 steps")
    assert "vanishes completely" in fake_flow([[0.0, 0.5, 1.0]]).summary()
    assert math.isnan(fake_flow([[1.0, 0.0]]).decade_change())


def test_csv_and_plot(tmp_path):
    flow = gradient_flow(lm("lstm"), lm_batch())
    other = gradient_flow(lm("rnn", layers=1), lm_batch())
    path = write_csv([("a", flow), ("b", other)], tmp_path / "flow.csv")
    rows = list(csv.DictReader(path.open()))
    assert len(rows) == 2 * T + T
    first = rows[0]
    assert (first["model"], first["layer"], first["t"], first["distance"]) == ("a", "layer 1", str(T), "0")
    assert float(first["grad_h"]) == pytest.approx(float(flow.grad_h[0, -1]))
    assert rows[-1]["grad_c"] == "" and rows[-1]["distance"] == str(T - 1)
    png = plot_gradient_flow([("a", flow), ("b", other)], tmp_path / "flow.png", styles=[{"color": "k"}, {"ls": "--"}])
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    plot_gradient_flow([("a", flow)], tmp_path / "one.png")


def test_a_bare_recurrent_layer_uses_half_the_squared_last_output():
    torch.manual_seed(0)
    layer = Recurrent(RecurrentConfig("gru", 3, H, num_layers=2)).double()
    x = torch.randn(T, B, 3, dtype=torch.float64)
    flow = gradient_flow(layer, (x, None))
    y_T = layer(x)[0][-1].detach()
    assert float(flow.grad_h[-1, -1]) == pytest.approx(float(y_T.norm(dim=-1).mean()))  # dL/dy_T = y_T
    assert flow.loss == pytest.approx(float(0.5 * y_T.pow(2).sum() / B))


def test_bad_batches():
    model = lm("lstm")
    with pytest.raises(ValueError, match=re.escape("batch: expected (inputs, targets) or (inputs, targets, lengths)")):
        gradient_flow(model, torch.zeros(2, 3))
    with pytest.raises(ValueError, match=re.escape("batch: expected targets the model computes a loss with")):
        gradient_flow(
            SequenceClassifier(SequenceClassifierConfig.from_dict(dict(vocab_size=3))), (torch.zeros(2, 3).long(), None)
        )


def test_model_mode_is_restored():
    model = lm("lstm").train()
    gradient_flow(model, lm_batch(), jacobian_examples=0)
    assert model.training and all(p.grad is None for p in model.parameters())


@pytest.mark.parametrize("variant", variant_params())
def test_every_registered_cell_traces_the_same_flow_both_ways(variant):
    # On a stack itself (L_T = 0.5 ||y_T||^2): the fused backward's state gradients and plain
    # autograd's agree for every registered cell, the projection LSTM included.
    torch.manual_seed(0)
    layer = Recurrent(RecurrentConfig(input_size=3, hidden_size=H, num_layers=2, backend="fused", **variant)).double()
    x = torch.randn(T, B, 3, dtype=torch.float64)
    fused = gradient_flow(layer, (x, None), jacobian_examples=2)
    ref = gradient_flow(layer, (x, None), jacobian_examples=2, method="autograd")
    assert (fused.method, ref.method) == ("fused", "autograd")
    for a, b in ((fused.grad_h, ref.grad_h), (fused.grad_c, ref.grad_c), (fused.jacobian_c, ref.jacobian_c)):
        assert (a is None) == (b is None) and (a is None or torch.allclose(a, b, rtol=1e-9))
    assert torch.allclose(fused.jacobian_h, ref.jacobian_h) and bool((fused.grad_h[:, -1] > 0).all())
