"""The projection LSTM (torch.nn's LSTM(proj_size=P)): equations vs torch.nn, its options, its
initialisation. (Its backward, fused path and layer parity run with every cell: test_every_cell.py,
tests/layers.)"""

import re

import pytest
import torch

import rnnkit.cells.lstm_proj
from rnnkit.cells import LSTMCell, ProjLSTMCell, make_cell
from rnnkit.layers import Recurrent, RecurrentConfig

B, D, H, P = 3, 4, 5, 2


def test_step_equals_torch_lstm_with_projection():
    torch.manual_seed(0)
    module = torch.nn.LSTM(D, H, proj_size=P, dtype=torch.float64)
    x = torch.randn(1, B, D, dtype=torch.float64)
    h, c = torch.randn(1, B, P, dtype=torch.float64), torch.randn(1, B, H, dtype=torch.float64)
    _, (h_nn, c_nn) = module(x, (h, c))
    cell = ProjLSTMCell(P)
    w = (module.weight_ih_l0, module.weight_hh_l0, module.bias_ih_l0, module.bias_hh_l0, module.weight_hr_l0)
    h_t, c_t = cell.step(cell.project(x[0], w), h[0], c[0], w)
    torch.testing.assert_close(h_t, h_nn[0], rtol=0, atol=1e-12)
    torch.testing.assert_close(c_t, c_nn[0], rtol=0, atol=1e-12)


def test_parameters_are_torch_nn_s():
    layer = Recurrent(RecurrentConfig("lstm", D, H, num_layers=2, bidirectional=True, proj_size=P))
    module = torch.nn.LSTM(D, H, num_layers=2, bidirectional=True, proj_size=P)
    assert [(n, p.shape) for n, p in layer.named_parameters()] == [(n, p.shape) for n, p in module.named_parameters()]
    no_bias = Recurrent(RecurrentConfig("lstm", D, H, bias=False, proj_size=P))
    assert [n for n, _ in no_bias.named_parameters()] == ["weight_ih_l0", "weight_hh_l0", "weight_hr_l0"]


def test_initialisation_is_the_lstm_s_plus_the_projection():
    torch.manual_seed(0)
    layer = Recurrent(RecurrentConfig("lstm", D, H, proj_size=P, forget_bias=2.0))
    assert torch.equal(layer.bias_ih_l0[H : 2 * H], torch.full((H,), 2.0))  # the forget gate block
    assert torch.equal(layer.bias_hh_l0, torch.zeros(4 * H))
    w_hr = layer.weight_hr_l0.detach()  # (P, H) orthogonal rows
    torch.testing.assert_close(w_hr @ w_hr.t(), torch.eye(P), rtol=0, atol=1e-6)


def test_proj_size_selects_the_cell():
    assert type(make_cell("lstm")) is LSTMCell
    assert type(make_cell("lstm", proj_size=P, hidden_size=H)) is ProjLSTMCell
    assert Recurrent(RecurrentConfig("lstm", D, H, proj_size=P)).output_size == P


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"proj_size": H}, f"proj_size: expected 0 (none) or an integer in [1, hidden_size={H}), got {H}"),
        ({"proj_size": -1}, f"proj_size: expected 0 (none) or an integer in [1, hidden_size={H}), got -1"),
        ({"proj_size": 1.5}, f"proj_size: expected 0 (none) or an integer in [1, hidden_size={H}), got 1.5"),
        ({"cell": "gru", "proj_size": 2}, "proj_size: expected 0 for cell 'gru' (only 'lstm' has it), got 2"),
    ],
)
def test_invalid_proj_size_is_rejected(overrides, message):
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        RecurrentConfig(**{"cell": "lstm", "input_size": D, "hidden_size": H, **overrides})


def test_docstring_states_the_equations_and_the_backward():
    doc = rnnkit.cells.lstm_proj.__doc__
    for line in ("m_t = o_t * tanh(c_t)", "h_t = m_t W_hr^T", "d_m   = d_h W_hr", "dL/dW_hr = sum_t d_h_t^T m_t"):
        assert line in doc
