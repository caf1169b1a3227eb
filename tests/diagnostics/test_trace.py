"""Tracer: the traced run is the layer's own function (outputs, final state, recorded states), for
every cell, stacked, bidirectional, with lengths; the layer's forward comes back afterwards."""

import re

import pytest
import torch

from rnnkit.diagnostics.trace import Tracer, find_recurrent
from rnnkit.layers import Recurrent, RecurrentConfig
from rnnkit.models import LanguageModel, LanguageModelConfig, ModelOutput, TokenBatch

from ..variants import VARIANTS, variant_params

T, B, D, H = 5, 3, 2, 4
LENGTHS = torch.tensor([3, 5, 1])


def make(variant, **overrides) -> Recurrent:
    torch.manual_seed(0)
    cfg = {"input_size": D, "hidden_size": H, "num_layers": 2, "backend": "autograd", **variant, **overrides}
    layer = Recurrent(RecurrentConfig(**cfg)).double()
    with torch.no_grad():
        for name, p in layer.named_parameters():
            if name.startswith("bias"):
                p.uniform_(-0.5, 0.5)
    return layer


def x_and_state(layer: Recurrent, batch_first: bool = False):
    g = torch.Generator().manual_seed(1)
    x = torch.randn(B, T, D, dtype=torch.float64, generator=g)
    x = x if batch_first else x.transpose(0, 1)
    k = layer.config.num_layers * layer.num_directions
    h_size, c_size = layer.cell.state_sizes(H)
    h = torch.randn(k, B, h_size, dtype=torch.float64, generator=g)
    state = (h, torch.randn(k, B, c_size, dtype=torch.float64, generator=g)) if c_size else h
    return x, state


def assert_same(a, b):
    if isinstance(a, tuple):
        assert all(torch.allclose(p, q) for p, q in zip(a, b))
    else:
        assert torch.allclose(a, b)


@pytest.mark.parametrize("variant", variant_params())
@pytest.mark.parametrize(
    "options",
    [{}, {"bidirectional": True}, {"lengths": True}, {"bidirectional": True, "lengths": True}, {"batch_first": True}],
    ids=["plain", "bidirectional", "lengths", "bidirectional-lengths", "batch_first"],
)
def test_traced_run_equals_the_layer(variant, options):
    lengths = LENGTHS if options.get("lengths") else None
    layer = make(
        variant, bidirectional=options.get("bidirectional", False), batch_first=options.get("batch_first", False)
    )
    x, state = x_and_state(layer, options.get("batch_first", False))
    want_out, want_state = layer(x, state, lengths=lengths)
    with Tracer(layer, gates=True, graph=True) as tracer:
        out, final = layer(x, state, lengths=lengths)
    assert torch.allclose(out, want_out)
    assert_same(final, want_state)
    assert len(tracer.traces) == 2 * layer.num_directions
    top = tracer.traces[-layer.num_directions :]
    xt = out if not layer.config.batch_first else out.transpose(0, 1)  # (T, B, dirs*H)
    for direction, trace in enumerate(top):
        h = trace.in_time_order(trace.h)  # the forward direction's h_t is its output at t
        mask = (
            torch.ones(T, B, 1, dtype=torch.bool)
            if lengths is None
            else (torch.arange(T)[:, None] < lengths)[..., None]
        )
        got = torch.where(mask, h, torch.zeros(()))
        h_size = trace.h.shape[2]  # H, or P with a projection
        assert torch.allclose(got, xt[:, :, direction * h_size : (direction + 1) * h_size])
        assert len(trace.h_nodes) == T and trace.x_proj.shape == (T, B, layer.cell.num_gates * H)
        gate_order = layer.cell.gate_order
        assert set(trace.gates) == (set() if gate_order == ("h",) else set(gate_order))  # Elman, IndRNN: none
    assert layer._observer is None  # the layer's own forward is back


@pytest.mark.parametrize("variant", variant_params())
def test_fused_method_runs_the_same_function(variant):
    layer = make(variant)
    x, state = x_and_state(layer)
    want_out, want_state = layer(x, state)
    with Tracer(layer, graph=True, method="fused") as tracer:
        out, final = layer(x, state)
    assert torch.allclose(out, want_out)
    assert_same(final, want_state)
    assert torch.allclose(tracer.traces[1].h, want_out)


def test_the_forward_comes_back_after_an_error():
    layer = make(VARIANTS["lstm"])
    with pytest.raises(RuntimeError, match="boom"), Tracer(layer):
        raise RuntimeError("boom")
    assert layer._observer is None
    x, _ = x_and_state(layer)
    layer(x)


def test_traces_a_model_through_its_own_forward():
    torch.manual_seed(0)
    model = LanguageModel(
        LanguageModelConfig.from_dict(dict(vocab_size=6, hidden_size=5, num_layers=2, embedding_size=3))
    )
    ids = torch.randint(0, 6, (2, 7))
    want = model(TokenBatch(ids))[0]
    assert find_recurrent(model) is model.rnn
    with Tracer(model.rnn, gates=True) as tracer:
        got = model(TokenBatch(ids))[0]
    assert torch.allclose(got, want, atol=1e-6)
    assert tracer.traces[1].h.shape == (7, 2, 5)


def test_errors():
    layer = make(VARIANTS["gru"])
    x, _ = x_and_state(layer)
    with pytest.raises(ValueError, match=re.escape("trace: expected method in ('autograd', 'fused'), got 'cuda'")):
        Tracer(layer, method="cuda")
    with pytest.raises(ValueError, match=re.escape("trace: expected method='autograd' to record gates")):
        Tracer(layer, gates=True, method="fused")
    with pytest.raises(ValueError, match=re.escape("trace: expected no lengths with method='fused'")):
        with Tracer(layer, method="fused"):
            layer(x, lengths=LENGTHS)
    with pytest.raises(ValueError, match=re.escape("trace: expected a rnnkit Recurrent layer, got Linear")):
        Tracer(torch.nn.Linear(2, 2))
    with pytest.raises(ValueError, match="expected a model with exactly one rnnkit Recurrent stack, got 0"):
        find_recurrent(torch.nn.Linear(2, 2))


class TwoStacks(torch.nn.Module):
    """Like the tagger with character features: one stack feeds another."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.lower = Recurrent(RecurrentConfig("gru", D, 3, bidirectional=True, batch_first=True)).double()
        self.upper = Recurrent(RecurrentConfig("lstm", 6, H, num_layers=2, batch_first=True)).double()
        self.head = torch.nn.Linear(H, 5).double()

    batch_type = TokenBatch  # the model contract (rnnkit.models.batch): inputs here are features (B, T, D)

    def forward(self, batch, state=None):
        out, _ = self.lower(batch.inputs)
        out, state = self.upper(out, state)
        logits = self.head(out)  # (B, T, V)
        targets = batch.targets
        loss = None if targets is None else torch.nn.functional.cross_entropy(logits.transpose(1, 2), targets)
        return ModelOutput(logits, loss, state)


def test_every_stack_of_a_model_is_traced():
    model = TwoStacks()
    x = torch.randn(B, T, D, dtype=torch.float64)
    want = model(TokenBatch(x))[0]
    with Tracer(model, gates=True) as tracer:
        got = model(TokenBatch(x))[0]
    assert torch.allclose(got, want)
    names = [trace.name for trace in tracer.traces]
    assert names == ["lower layer 1", "lower layer 1 reverse", "upper layer 1", "upper layer 2"]
    assert [trace.cell.name for trace in tracer.traces] == ["gru", "gru", "lstm", "lstm"]
    assert set(tracer.traces[0].gates) == {"r", "z", "n"} and set(tracer.traces[2].gates) == {"i", "f", "g", "o"}
    assert model.lower._observer is None and model.upper._observer is None  # both given back


def test_gradient_flow_covers_every_stack():
    from rnnkit.diagnostics import gradient_flow

    model = TwoStacks()
    x, y = torch.randn(B, T, D, dtype=torch.float64), torch.randint(0, 5, (B, T))
    flow = gradient_flow(model, (x, y), jacobian_examples=2)
    assert flow.layers == ["lower layer 1", "lower layer 1 reverse", "upper layer 1", "upper layer 2"]
    assert flow.cell == "lstm" and flow.grad_h.shape == flow.grad_c.shape == flow.jacobian_c.shape == (4, T)
    assert torch.isnan(flow.grad_c[:2]).all() and torch.isnan(flow.jacobian_c[:2]).all()  # GRU: no cell state
    assert torch.isfinite(flow.grad_c[2:]).all() and torch.isfinite(flow.grad_h).all()
    assert "upper layer 2" in flow.summary()
