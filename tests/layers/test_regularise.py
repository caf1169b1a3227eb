"""The regularisers inside the recurrence (issue 18; rnnkit.layers.regularise): weight drop,
recurrent (variational) dropout, zoneout and variational dropout between layers. Each against the
equations written out here with the same masks, the identity (or the expectation) in evaluation,
the same mask at every step where the method says so, the stored weights untouched, deterministic
under a seed, every backend that can run it and a clear refusal from the others."""

from __future__ import annotations

import pytest
import torch

from rnnkit.layers import Recurrent, RecurrentConfig
from rnnkit.layers.dropout import dropout

F64 = torch.float64
T, B, D, H = 7, 3, 4, 5


def make(cell="lstm", backend="auto", **kw) -> Recurrent:
    torch.manual_seed(0)
    return Recurrent(RecurrentConfig(cell, D, H, backend=backend, **kw)).double()


def x_of(seed=1):
    return torch.randn(T, B, D, dtype=F64, generator=torch.Generator().manual_seed(seed))


def plain_like(layer, **changes) -> Recurrent:
    """A layer with the same weights and none of the regularisers (or ``changes``)."""
    cfg = dict(weight_drop=0.0, recurrent_dropout=0.0, zoneout=0.0, zoneout_cell=0.0, variational=False)
    other = Recurrent(RecurrentConfig(**{**vars(layer.config), **cfg, **changes})).double()
    other.load_state_dict(layer.state_dict())
    return other


# ----- weight drop -----------------------------------------------------------------------------
@pytest.mark.parametrize("cell, backend", [("lstm", "fused"), ("lstm", "autograd"), ("lstm", "native"),
                                           ("gru", "fused"), ("rnn", "native"), ("indrnn", "fused")])  # fmt: skip
def test_weight_drop_is_one_mask_on_w_hh_for_the_whole_sequence(cell, backend):
    layer = make(cell, backend, weight_drop=0.4).train()
    torch.manual_seed(5)
    y = layer(x_of())[0]
    torch.manual_seed(5)
    masked = dropout(layer.weight_hh_l0.detach(), 0.4)  # the same draw: the forward's first
    reference = plain_like(layer, backend="autograd").train()
    with torch.no_grad():
        reference.weight_hh_l0.copy_(masked)
    torch.testing.assert_close(y, reference(x_of())[0])
    assert (masked == 0).any() and (masked != 0).any()


def test_weight_drop_leaves_the_stored_weight_alone_and_masks_its_gradient():
    layer = make("lstm", "fused", weight_drop=0.5).train()
    before = {k: v.clone() for k, v in layer.state_dict().items()}
    torch.manual_seed(3)
    layer(x_of())[0].sum().backward()
    torch.manual_seed(3)
    keep = dropout(torch.ones_like(layer.weight_hh_l0), 0.5) != 0
    assert layer.state_dict().keys() == before.keys()  # no raw / swapped copies (AWD's weight_hh_raw)
    assert all(torch.equal(layer.state_dict()[k], v) for k, v in before.items())
    g = layer.weight_hh_l0.grad
    assert bool((g[~keep] == 0).all()) and bool((g[keep] != 0).any())
    assert isinstance(layer.weight_hh_l0, torch.nn.Parameter)


def test_weight_drop_is_off_in_evaluation_and_draws_anew_each_call():
    layer = make("lstm", weight_drop=0.5)
    layer.eval()
    torch.testing.assert_close(layer(x_of())[0], plain_like(layer)(x_of())[0], rtol=0, atol=0)
    layer.train()
    a, b = layer(x_of())[0], layer(x_of())[0]
    assert not torch.equal(a, b)
    torch.manual_seed(9)
    c = layer(x_of())[0]
    torch.manual_seed(9)
    assert torch.equal(c, layer(x_of())[0])  # deterministic under a seed


# ----- recurrent dropout -----------------------------------------------------------------------
def recurrent_dropout_run(cell: str):
    """A training forward with recurrent dropout 0.5 under seed 4, the mask that seed draws first
    (the same draw), and the layer's weights."""
    layer = make(cell, recurrent_dropout=0.5).train()
    torch.manual_seed(4)
    y = layer(x_of())[0]
    torch.manual_seed(4)
    return y, dropout(torch.ones(B, H, dtype=F64), 0.5), tuple(p.detach() for p in layer.parameters())


def test_recurrent_dropout_is_one_mask_per_sequence_on_the_recurrent_input():
    y, m, (w_ih, w_hh, b_ih, b_hh) = recurrent_dropout_run("rnn")  # drawn once, used at every step
    h, want = torch.zeros(B, H, dtype=F64), []
    for x_t in x_of():
        h = torch.tanh(x_t @ w_ih.T + b_ih + (h * m) @ w_hh.T + b_hh)
        want.append(h)
    torch.testing.assert_close(y, torch.stack(want))


def test_the_gru_s_direct_path_reads_the_unmasked_state():
    y, m, (w_ih, w_hh, b_ih, b_hh) = recurrent_dropout_run("gru")
    h, want = torch.zeros(B, H, dtype=F64), []
    for x_t in x_of():
        x_r, x_z, x_n = (x_t @ w_ih.T + b_ih).chunk(3, 1)
        h_r, h_z, h_n = ((h * m) @ w_hh.T + b_hh).chunk(3, 1)
        r, z = torch.sigmoid(x_r + h_r), torch.sigmoid(x_z + h_z)
        h = (1 - z) * torch.tanh(x_n + r * h_n) + z * h
        want.append(h)
    torch.testing.assert_close(y, torch.stack(want))


def test_recurrent_dropout_is_the_identity_in_evaluation_on_the_fast_backend():
    layer = make("lstm", recurrent_dropout=0.5).eval()
    assert layer.resolved_backend(grad=False) != "autograd"
    torch.testing.assert_close(layer(x_of())[0], plain_like(layer)(x_of())[0], rtol=0, atol=0)
    assert layer.train().resolved_backend(grad=True) == "autograd"


# ----- zoneout ---------------------------------------------------------------------------------
def test_zoneout_in_evaluation_is_the_expectation():
    layer = make("gru", zoneout=0.3).eval()
    cell, w = layer.cell, layer.layer_weights(0)
    h, want = torch.zeros(B, H, dtype=F64), []
    for x_t in x_of():
        h_new, _ = cell.step(cell.project(x_t, w), h, None, w)
        h = 0.3 * h + 0.7 * h_new
        want.append(h)
    torch.testing.assert_close(layer(x_of())[0], torch.stack(want))


def test_zoneout_in_training_keeps_each_unit_or_takes_the_new_value():
    """Every unit of every h_t is h_{t-1}'s (kept) or the cell's new value, a fresh draw each step,
    kept with the configured probability."""
    layer = make("gru", zoneout=0.3).train()
    cell, w = layer.cell, layer.layer_weights(0)
    x = torch.randn(20, 200, D, dtype=F64)
    with torch.no_grad():
        y = layer(x)[0]
    h, kept = torch.zeros(200, H, dtype=F64), []
    for t in range(20):
        new, _ = cell.step(cell.project(x[t], w), h, None, w)
        same, fresh = y[t] == h, torch.isclose(y[t], new, rtol=0, atol=1e-12)
        assert bool((same | fresh).all())
        kept.append(same)
        h = y[t]
    kept = torch.stack(kept).double()
    assert kept.mean().item() == pytest.approx(0.3, abs=0.02)
    assert not bool((kept[1:] == kept[:1]).all())  # a new mask every step


def test_zoneout_on_the_cell_state_has_its_own_rate():
    layer = make("lstm", zoneout_cell=0.6).train()
    x = torch.randn(1, 4000, D, dtype=F64)  # one step from c_0 = 0: kept units are exactly 0
    with torch.no_grad():
        y, (h_n, c_n) = layer(x)
    assert (c_n == 0).double().mean().item() == pytest.approx(0.6, abs=0.02)
    assert (y == 0).double().mean().item() < 0.01  # h has no zoneout of its own here


def test_zoneout_rates_are_the_configured_probabilities():
    layer = make("lstm", zoneout=0.3).train()
    x = torch.randn(1, 4000, D, dtype=F64)  # one step from h_0 = 0: kept units are exactly 0
    with torch.no_grad():
        y = layer(x)[0]
    assert (y == 0).double().mean().item() == pytest.approx(0.3, abs=0.02)


def test_zoneout_steps_equal_the_sequence_in_evaluation():
    layer = make("lstm", zoneout=0.2, zoneout_cell=0.5, num_layers=2).eval()
    y, _ = layer(x_of())
    state, steps = None, []
    for x_t in x_of():
        h, state = layer.step(x_t, state)
        steps.append(h)
    torch.testing.assert_close(torch.stack(steps), y)


def test_zoneout_and_padding_give_each_sequence_its_own_result():
    layer = make("gru", zoneout=0.25).eval()
    x, lengths = x_of(), torch.tensor([7, 3, 5])
    y = layer(x, lengths=lengths)[0]
    for b, n in enumerate(lengths.tolist()):
        torch.testing.assert_close(y[:n, b], layer(x[:n, b : b + 1])[0][:, 0])


# ----- variational dropout between layers --------------------------------------------------------
def test_variational_dropout_between_layers_is_one_mask_for_every_step():
    layer = make("lstm", "native", num_layers=2, dropout=0.5, variational=True).train()
    ones = torch.ones(T, B, H, dtype=F64)
    out = layer._between_layers(ones, 0)
    assert bool((out == out[:1]).all()) and (out == 0).any()
    plain = make("lstm", num_layers=2, dropout=0.5).train()._between_layers(ones, 0)
    assert not bool((plain == plain[:1]).all())


# ----- what refuses ----------------------------------------------------------------------------
@pytest.mark.parametrize("kw, message", [
    ({"cell": "lstm", "zoneout": 0.1, "backend": "fused"},
     "zoneout: runs on the autograd backend only (it changes the recurrence inside each step; 'auto' "
     "picks autograd for it), got backend 'fused'"),
    ({"cell": "gru", "recurrent_dropout": 0.1, "backend": "native"},
     "recurrent_dropout: runs on the autograd backend only (it changes the recurrence inside each step; "
     "'auto' picks autograd for it), got backend 'native'"),
    ({"cell": "gru", "zoneout_cell": 0.1},
     "zoneout_cell: expected 0 for cell 'gru' (it has no cell state; zoneout acts on h), got 0.1"),
    ({"cell": "mingru", "weight_drop": 0.5},
     "weight_drop: expected 0 for cell 'mingru' (its gates do not read h_(t-1): nothing recurrent to drop), got 0.5"),
    ({"cell": "lstm", "zoneout": 1.0}, "zoneout: expected a probability in [0, 1), got 1.0"),
    ({"cell": "lstm", "weight_drop": True}, "weight_drop: expected a probability in [0, 1), got True"),
    ({"cell": "lstm", "variational": 1}, "variational: expected true or false, got 1"),
])  # fmt: skip
def test_what_a_backend_or_cell_cannot_honour_is_refused(kw, message):
    with pytest.raises(ValueError) as e:
        RecurrentConfig(input_size=D, hidden_size=H, **kw)
    assert str(e.value) == message


def test_a_training_step_with_per_sequence_masks_is_refused():
    layer = make("lstm", weight_drop=0.5, zoneout=0.1).train()
    with pytest.raises(ValueError) as e:
        layer.step(x_of()[0])
    assert str(e.value) == (
        "step: expected eval mode with weight_drop (its masks are drawn once per sequence, not per step), "
        "got training mode"
    )
    layer = make("lstm", zoneout=0.5).train()  # zoneout draws per step: a training step can
    torch.manual_seed(0)
    ones = torch.ones(1, 800, H, dtype=F64)
    h, _ = layer.step(torch.randn(800, D, dtype=F64), (ones, ones))
    assert (h == 1).double().mean().item() == pytest.approx(0.5, abs=0.04)  # half the units kept h_0 = 1


def test_to_torch_leaves_training_only_regularisers_behind_and_refuses_zoneout():
    from rnnkit.layers import to_torch

    layer = make("lstm", weight_drop=0.5, recurrent_dropout=0.2).eval()
    module = to_torch(layer)
    torch.testing.assert_close(module(x_of())[0], layer(x_of())[0])  # the evaluated function
    with pytest.raises(ValueError) as e:
        to_torch(make("lstm", zoneout=0.1, zoneout_cell=0.2))
    assert str(e.value) == (
        "to_torch: expected no zoneout (torch.nn has none, and its expectation is part of the evaluated "
        "function), got zoneout=0.1, zoneout_cell=0.2"
    )
