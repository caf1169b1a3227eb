"""GRU cell, both forms: hand-written backward vs finite differences; reset_after=True vs
torch.nn.GRUCell, reset_after=False vs the textbook equations written out here."""

import pytest
import torch

import rnnkit.cells.gru
from rnnkit.cells import GRUCell

from ._onestep import one_step, reference, step_inputs

FORMS = [pytest.param(True, id="reset_after"), pytest.param(False, id="reset_before")]


@pytest.mark.parametrize("bias", [True, False], ids=["bias", "no_bias"])
@pytest.mark.parametrize("reset_after", FORMS)
def test_hand_written_backward_passes_gradcheck(reset_after, bias):
    cell = GRUCell(reset_after=reset_after)
    inputs = step_inputs(cell, bias=bias)
    assert torch.autograd.gradcheck(lambda *a: one_step(cell, *a), inputs)


@pytest.mark.parametrize("reset_after", FORMS)
def test_fused_forward_step_equals_reference_step(reset_after):
    cell = GRUCell(reset_after=reset_after)
    inputs = step_inputs(cell)
    (fused,), (ref,) = one_step(cell, *inputs), reference(cell, *inputs)
    torch.testing.assert_close(fused, ref, rtol=0, atol=1e-12)


def _inputs(B=3, D=4, H=5):
    torch.manual_seed(0)
    return torch.randn(B, D, dtype=torch.float64), torch.randn(B, H, dtype=torch.float64)


def test_reset_after_reference_step_equals_torch_gru_cell():
    x, h = _inputs()
    nn_cell = torch.nn.GRUCell(4, 5, dtype=torch.float64)
    cell = GRUCell(reset_after=True)
    w = (nn_cell.weight_ih, nn_cell.weight_hh, nn_cell.bias_ih, nn_cell.bias_hh)
    x_proj = x @ nn_cell.weight_ih.t() + cell.input_bias(w)  # (B, 3H)
    h_t, c_t = cell.step(x_proj, h, None, w)
    assert c_t is None
    torch.testing.assert_close(h_t, nn_cell(x, h), rtol=0, atol=1e-12)


def test_reset_before_reference_step_equals_textbook_gru():
    """Cho et al. (2014): the reset gate scales h_{t-1} BEFORE the recurrent matmul of n."""
    x, h = _inputs()
    H = h.shape[1]
    w_ih = 0.5 * torch.randn(3 * H, 4, dtype=torch.float64)  # (3H, D)
    w_hh = 0.5 * torch.randn(3 * H, H, dtype=torch.float64)  # (3H, H)
    b_ih, b_hh = torch.randn(3 * H, dtype=torch.float64), torch.randn(3 * H, dtype=torch.float64)
    W_ir, W_iz, W_in = w_ih.chunk(3)
    W_hr, W_hz, W_hn = w_hh.chunk(3)
    b_ir, b_iz, b_in = b_ih.chunk(3)
    b_hr, b_hz, b_hn = b_hh.chunk(3)
    r = torch.sigmoid(x @ W_ir.t() + b_ir + h @ W_hr.t() + b_hr)
    z = torch.sigmoid(x @ W_iz.t() + b_iz + h @ W_hz.t() + b_hz)
    n = torch.tanh(x @ W_in.t() + b_in + (r * h) @ W_hn.t() + b_hn)
    expected = (1 - z) * n + z * h

    cell = GRUCell(reset_after=False)
    w = (w_ih, w_hh, b_ih, b_hh)
    x_proj = x @ w_ih.t() + cell.input_bias(w)  # (B, 3H)
    h_t, _ = cell.step(x_proj, h, None, w)
    torch.testing.assert_close(h_t, expected, rtol=0, atol=1e-12)
    # ... and the two forms really differ (so the test above could fail).
    h_after, _ = GRUCell(reset_after=True).step(x_proj, h, None, w)
    assert not torch.allclose(h_after, expected)


def test_docstring_states_the_equations():
    doc = rnnkit.cells.gru.__doc__
    for equation in (
        "r_t = sigmoid(W_ir x_t + b_ir + W_hr h_{t-1} + b_hr)",
        "z_t = sigmoid(W_iz x_t + b_iz + W_hz h_{t-1} + b_hz)",
        "n_t = tanh(W_in x_t + b_in + r_t * (W_hn h_{t-1} + b_hn))",
        "n_t = tanh(W_in x_t + b_in + W_hn (r_t * h_{t-1}) + b_hn)",
        "h_t = (1 - z_t) * n_t + z_t * h_{t-1}",
    ):
        assert equation in doc
