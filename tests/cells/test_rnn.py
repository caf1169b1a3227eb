"""Elman cell (tanh and relu): hand-written backward vs finite differences, equations vs
torch.nn.RNNCell."""

import pytest
import torch

import rnnkit.cells.rnn
from rnnkit.cells import ElmanCell

from ._onestep import one_step, pre_activations, reference, step_inputs

ACTS = ["tanh", "relu"]


@pytest.mark.parametrize("bias", [True, False], ids=["bias", "no_bias"])
@pytest.mark.parametrize("nonlinearity", ACTS)
def test_hand_written_backward_passes_gradcheck(nonlinearity, bias):
    cell = ElmanCell(nonlinearity)
    inputs = step_inputs(cell, bias=bias)
    if nonlinearity == "relu":  # both slopes of relu are exercised, and no point sits on the kink
        a = pre_activations(cell, *inputs[:2], *inputs[3:])
        assert a.abs().min() > 1e-3 and (a > 0).any() and (a < 0).any()
    assert torch.autograd.gradcheck(lambda *a: one_step(cell, *a), inputs)


@pytest.mark.parametrize("nonlinearity", ACTS)
def test_fused_forward_step_equals_reference_step(nonlinearity):
    cell = ElmanCell(nonlinearity)
    inputs = step_inputs(cell)
    (fused,), (ref,) = one_step(cell, *inputs), reference(cell, *inputs)
    torch.testing.assert_close(fused, ref, rtol=0, atol=1e-12)


@pytest.mark.parametrize("nonlinearity", ACTS)
def test_reference_step_equals_torch_rnn_cell(nonlinearity):
    torch.manual_seed(0)
    x, h = torch.randn(3, 4, dtype=torch.float64), torch.randn(3, 5, dtype=torch.float64)
    nn_cell = torch.nn.RNNCell(4, 5, nonlinearity=nonlinearity, dtype=torch.float64)
    cell = ElmanCell(nonlinearity)
    w = (nn_cell.weight_ih, nn_cell.weight_hh, nn_cell.bias_ih, nn_cell.bias_hh)
    x_proj = x @ nn_cell.weight_ih.t() + cell.input_bias(w)  # (B, H)
    h_t, c_t = cell.step(x_proj, h, None, w)
    assert c_t is None
    torch.testing.assert_close(h_t, nn_cell(x, h), rtol=0, atol=1e-12)


def test_unknown_nonlinearity_is_rejected():
    with pytest.raises(ValueError, match=r"^nonlinearity: expected one of \('tanh', 'relu'\), got 'gelu'$"):
        ElmanCell("gelu")


def test_docstring_states_the_equations():
    doc = rnnkit.cells.rnn.__doc__
    for equation in ("a_t = W_ih x_t + b_ih + W_hh h_{t-1} + b_hh", "h_t = act(a_t)"):
        assert equation in doc
