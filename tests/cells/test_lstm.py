"""LSTM cell: hand-written backward vs finite differences, equations vs torch.nn.LSTMCell.

The fused path runs the kernel-backed variant on the CPU (rnnkit.cells.kernel_cells) and the
eager ops elsewhere; both are checked here ("fused_cell")."""

import pytest
import torch

import rnnkit.cells.lstm
from rnnkit.cells import LSTMCell, kernel_variant

from ._onestep import one_step, reference, step_inputs


@pytest.fixture(params=["compiled", "eager"])
def fused_cell(request):
    if request.param == "eager":
        return LSTMCell()
    cell = kernel_variant(LSTMCell(), torch.device("cpu"), torch.float64)
    if cell is None:
        pytest.skip("the compiled kernel is unavailable here")
    return cell


@pytest.mark.parametrize("bias", [True, False], ids=["bias", "no_bias"])
def test_hand_written_backward_passes_gradcheck(bias, fused_cell):
    inputs = step_inputs(fused_cell, bias=bias)
    assert torch.autograd.gradcheck(lambda *a: one_step(fused_cell, *a), inputs)


def test_fused_forward_step_equals_reference_step(fused_cell):
    cell = fused_cell
    inputs = step_inputs(cell)
    for fused, ref in zip(one_step(cell, *inputs), reference(cell, *inputs), strict=True):
        torch.testing.assert_close(fused, ref, rtol=0, atol=1e-12)


def test_reference_step_equals_torch_lstm_cell():
    torch.manual_seed(0)
    B, D, H = 3, 4, 5
    nn_cell = torch.nn.LSTMCell(D, H, dtype=torch.float64)
    x, h, c = (
        torch.randn(B, D, dtype=torch.float64),
        torch.randn(B, H, dtype=torch.float64),
        torch.randn(B, H, dtype=torch.float64),
    )
    cell = LSTMCell()
    w_ih, w_hh, b_ih, b_hh = nn_cell.weight_ih, nn_cell.weight_hh, nn_cell.bias_ih, nn_cell.bias_hh
    w = (w_ih, w_hh, b_ih, b_hh)
    x_proj = x @ w_ih.t() + cell.input_bias(w)  # (B, 4H)
    h_t, c_t = cell.step(x_proj, h, c, w)
    h_nn, c_nn = nn_cell(x, (h, c))
    torch.testing.assert_close(h_t, h_nn, rtol=0, atol=1e-12)
    torch.testing.assert_close(c_t, c_nn, rtol=0, atol=1e-12)


def test_docstring_states_the_equations():
    doc = rnnkit.cells.lstm.__doc__
    for equation in (
        "i_t = sigmoid(a_i)",
        "f_t = sigmoid(a_f)",
        "g_t = tanh(a_g)",
        "o_t = sigmoid(a_o)",
        "c_t = f_t * c_{t-1} + i_t * g_t",
        "h_t = o_t * tanh(c_t)",
    ):
        assert equation in doc
