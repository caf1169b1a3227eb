"""The weights as torch.nn's tools see them: parametrisations, re-assignment, functional_call,
serialisation, conversion of whole models; gradcheck and grad of grad on every backend; the
diagnostics on a drop-in."""

from __future__ import annotations

import copy
import io

import pytest
import torch
from torch import nn
from torch.func import functional_call
from torch.nn.utils import parametrizations

from rnnkit import nn as rnn

from ._dropin import BACKENDS, F64, assert_same, pair

X = torch.randn(5, 3, 4, dtype=F64)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize(
    "apply",
    [
        pytest.param(lambda m, n: parametrizations.weight_norm(m, n), id="weight_norm"),
        pytest.param(lambda m, n: parametrizations.spectral_norm(m, n), id="spectral_norm"),
        pytest.param(lambda m, n: nn.utils.weight_norm(m, n), id="old-weight_norm"),
    ],
)
@pytest.mark.parametrize("name, weight", [("LSTM", "weight_hh_l0"), ("GRU", "weight_ih_l1"), ("LSTM", "weight_hr_l0")])
def test_a_parametrised_weight_is_the_weight_computed_with(name, weight, apply, backend):
    kwargs = {"proj_size": 3} if weight == "weight_hr_l0" else {}
    theirs, ours = pair(name, 4, 6, 2, backend=backend, **kwargs)
    torch.manual_seed(5)
    apply(theirs, weight)
    torch.manual_seed(5)
    apply(ours, weight)
    theirs.eval(), ours.eval()  # spectral_norm's power iteration would otherwise step differently
    assert_same(theirs(X), ours(X))
    assert sum(isinstance(w, nn.Parameter) for w in ours._flat_weights) == len(ours._flat_weights) - 1


@pytest.mark.parametrize("backend", BACKENDS)
def test_weight_norm_removed_gives_the_parameter_back(backend):
    _, ours = pair("LSTM", 4, 6, backend=backend)
    before = ours(X)
    nn.utils.weight_norm(ours, "weight_ih_l0")
    nn.utils.remove_weight_norm(ours, "weight_ih_l0")
    assert "weight_ih_l0" in ours._parameters and "weight_ih_l0_g" not in dict(ours.named_parameters())
    assert_same(ours(X), before)


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_weight_deleted_and_assigned_back_as_a_tensor(backend):
    theirs, ours = pair("GRU", 4, 6, 2, backend=backend)
    expected = theirs(X)
    w = ours.weight_hh_l0.detach().clone()
    del ours.weight_hh_l0
    assert not hasattr(ours, "weight_hh_l0")
    ours.float().double()  # converting with a weight missing must not fail (torch's test)
    ours.weight_hh_l0 = w  # a plain tensor now, not a Parameter
    assert_same(ours(X), expected)


@pytest.mark.parametrize("backend", BACKENDS)
def test_tied_weights_stay_tied(backend):
    _, ours = pair("LSTM", 4, 6, backend=backend, bidirectional=True)
    ours.bias_ih_l0_reverse = ours.bias_ih_l0
    theirs = nn.LSTM(4, 6, bidirectional=True).double()
    theirs.bias_ih_l0_reverse = theirs.bias_ih_l0
    theirs.load_state_dict(ours.state_dict())
    assert_same(theirs(X), ours(X))
    ours(X)[0].sum().backward()
    torch.optim.SGD(ours.parameters(), lr=0.1).step()
    assert ours.bias_ih_l0_reverse is ours.bias_ih_l0


@pytest.mark.parametrize("backend", BACKENDS)
def test_functional_call_computes_with_the_given_weights(backend):
    theirs, ours = pair("LSTM", 4, 6, 2, backend=backend)
    other = {k: v.detach() * 0.5 for k, v in ours.named_parameters()}
    assert_same(functional_call(theirs, other, (X,)), functional_call(ours, other, (X,)))
    assert_same(theirs(X), ours(X))  # and the module's own weights afterwards


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name", ["RNN", "LSTM", "GRU"])
def test_pickling_deepcopy_and_state_dicts(name, backend):
    _, ours = pair(name, 4, 6, 2, backend=backend, bidirectional=True)
    expected = ours(X)
    buffer = io.BytesIO()
    torch.save(ours, buffer)
    buffer.seek(0)
    loaded = torch.load(buffer, weights_only=False)
    assert type(loaded) is type(ours) and loaded.rnnkit_options == ours.rnnkit_options
    loaded.flatten_parameters()
    assert_same(loaded(X), expected)
    assert_same(copy.deepcopy(ours)(X), expected)
    buffer = io.BytesIO()
    torch.save(ours.state_dict(), buffer)
    buffer.seek(0)
    fresh = getattr(rnn, name)(4, 6, 2, bidirectional=True, backend=backend).double()
    fresh.load_state_dict(torch.load(buffer, weights_only=True))
    assert_same(fresh(X), expected)
    torch_module = getattr(nn, name)(4, 6, 2, bidirectional=True).double()
    torch_module.load_state_dict(ours.state_dict())  # interchangeable with torch.nn's
    assert_same(torch_module(X), expected)


def test_an_lstm_pickled_before_proj_size_existed_still_loads():
    _, ours = pair("LSTM", 4, 6)
    expected = ours(X)
    state = ours.__dict__.copy()
    del state["proj_size"]
    revived = rnn.LSTM.__new__(rnn.LSTM)
    revived.__setstate__(state)
    assert revived.proj_size == 0
    assert_same(revived(X), expected)


@pytest.mark.parametrize("backend", BACKENDS)
def test_moving_and_converting_keeps_the_computation(backend):
    theirs, ours = pair("GRU", 4, 6, 2, backend=backend, dtype=torch.float32)
    ours.double()
    theirs.double()
    assert_same(theirs(X), ours(X))
    torch.__future__.set_swap_module_params_on_conversion(True)
    try:
        ours.float().double()
    finally:
        torch.__future__.set_swap_module_params_on_conversion(False)
    assert_same(theirs(X), ours(X))


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize(
    "name, kwargs",
    [("RNN", {"nonlinearity": "relu"}), ("LSTM", {"bias": False}), ("LSTM", {"proj_size": 2}), ("GRU", {})],
)
def test_gradcheck_and_grad_of_grad_over_inputs_states_and_weights(name, kwargs, backend):
    """Every backend, gradients of second order included (gradient penalties, meta-learning): the
    fused backend recomputes with the reference loop when asked for ``create_graph``."""
    _, ours = pair(name, 3, 4, backend=backend, bidirectional=True, **kwargs)
    x = torch.randn(3, 2, 3, dtype=F64, requires_grad=True)
    params = tuple(ours.parameters())

    def f(x, *weights):
        out = functional_call(ours, dict(zip([n for n, _ in ours.named_parameters()], weights)), (x,))
        return torch.cat([t.reshape(-1) for t in (out[0], *(out[1] if isinstance(out[1], tuple) else (out[1],)))])

    assert torch.autograd.gradcheck(f, (x, *params))
    assert torch.autograd.gradgradcheck(f, (x, *params))


def test_a_default_gru_supports_grad_of_grad():
    """Issue 17's bug 2: ``auto`` picks the fused backend for a GRU training on a CPU."""
    gru = rnn.GRU(4, 4).double()
    x = torch.randn(3, 2, 4, dtype=F64, requires_grad=True)
    (g,) = torch.autograd.grad(gru(x)[0].sum(), x, create_graph=True)
    g.pow(2).sum().backward()
    assert x.grad is not None and all(p.grad is not None for p in gru.parameters())


def test_from_torch_and_to_torch_swap_a_whole_model_keeping_the_parameters():
    class Model(nn.Module):
        def __init__(self):
            super().__init__()
            self.encoder = nn.LSTM(4, 6, 2)
            self.inner = nn.Sequential(nn.GRUCell(6, 5), nn.Linear(5, 2))

    model = Model().double()
    params = {n: p for n, p in model.named_parameters()}
    state = torch.random.get_rng_state()
    swapped = rnn.from_torch(model, backend="fused")
    assert torch.equal(torch.random.get_rng_state(), state)  # nothing drawn
    assert type(swapped.encoder) is rnn.LSTM and type(swapped.inner[0]) is rnn.GRUCell
    assert swapped.encoder.rnnkit_options.backend == "fused"
    assert all(params[n] is p for n, p in swapped.named_parameters())  # the same tensors
    torch_out = nn.LSTM(4, 6, 2).double()
    torch_out.load_state_dict(swapped.encoder.state_dict())
    assert_same(swapped.encoder(X), torch_out(X))
    back = rnn.to_torch(swapped)
    assert type(back.encoder) is nn.LSTM and type(back.inner[0]) is nn.GRUCell
    assert all(params[n] is p for n, p in back.named_parameters())
    assert type(rnn.from_torch(nn.RNN(3, 4, 1, "relu"))) is rnn.RNN
    assert rnn.from_torch(nn.RNN(3, 4, 1, "relu")).nonlinearity == "relu"


def test_to_torch_refuses_what_torch_cannot_compute():
    with pytest.raises(ValueError) as e:
        rnn.to_torch(nn.Sequential(rnn.GRU(3, 4, reset_after=False)))
    assert str(e.value) == (
        "to_torch: expected modules torch.nn can compute, got GRU with reset_after=False (torch.nn has only the "
        "reset-after GRU)"
    )


def test_the_diagnostics_trace_a_drop_in():
    from rnnkit.diagnostics import gradient_flow

    torch.manual_seed(0)
    lstm = rnn.LSTM(4, 8, 2)
    x = torch.randn(12, 2, 4)
    flow = gradient_flow(lstm, (x, None))
    assert flow.steps == 12 and flow.layers == ["layer 1", "layer 2"] and flow.grad_c is not None
    assert flow.summary().startswith("lstm: gradient ")

    class Tagger(nn.Module):  # a user's own model, with its own loss at the last step
        def __init__(self):
            super().__init__()
            self.rnn, self.out = rnn.GRU(4, 8), nn.Linear(8, 3)

        def forward(self, x):
            return self.out(self.rnn(x)[0])

    model, y = Tagger(), torch.tensor([[0, 2]] * 12)
    last = lambda m, x, y: nn.functional.cross_entropy(m(x)[-1], y[-1], reduction="sum")  # noqa: E731
    flow = gradient_flow(model, (x, y), loss_fn=last)
    assert flow.cell == "gru" and flow.steps == 12 and torch.isfinite(flow.grad_h).all()
    assert flow.grad_h[0, -1] > 0  # the last step gets the loss's gradient
