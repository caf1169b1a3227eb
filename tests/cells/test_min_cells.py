"""minGRU and minLSTM (issue 18): their equations, the minLSTM's normalised gates where the paper's
f / (f + i) would divide zero by zero, their parameters (no recurrent matrix), bad options, that
they learn, and the CLI. (Gradcheck, fused == autograd, padded == per-sequence, chunked == whole
and step == forward run for every registered cell in tests/cells and tests/layers; the scan
itself in tests/layers/test_scan.py.)"""

from __future__ import annotations

import json

import pytest
import torch

from rnnkit.cells import MinGRUCell, MinLSTMCell, compiled
from rnnkit.layers import Recurrent, RecurrentConfig, to_torch

from ._tasks import recall_accuracy

F64 = torch.float64


def weights(G: int, D: int = 3, H: int = 4, seed: int = 1):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(G * H, D, generator=g, dtype=F64), torch.randn(G * H, generator=g, dtype=F64)


def test_a_mingru_step_is_the_paper_s():
    cell, w = MinGRUCell(), weights(2)
    x, h = torch.randn(5, 3, dtype=F64), torch.randn(5, 4, dtype=F64)
    k, h_tilde = (x @ w[0].T + w[1]).chunk(2, -1)
    z = torch.sigmoid(k)
    h_t, c_t = cell.step(cell.project(x, w), h, None, w)
    assert c_t is None and torch.allclose(h_t, (1 - z) * h + z * h_tilde)


def test_a_minlstm_step_is_the_paper_s():
    cell, w = MinLSTMCell(), weights(3)
    x, h = torch.randn(5, 3, dtype=F64), torch.randn(5, 4, dtype=F64)
    k_f, k_i, h_tilde = (x @ w[0].T + w[1]).chunk(3, -1)
    f, i = torch.sigmoid(k_f), torch.sigmoid(k_i)
    h_t, _ = cell.step(cell.project(x, w), h, None, w)
    assert torch.allclose(h_t, f / (f + i) * h + i / (f + i) * h_tilde)


@pytest.mark.parametrize("dtype", [torch.float32, F64])
@pytest.mark.parametrize("kernel", [True, False], ids=["kernel", "eager"])
def test_the_minlstm_is_finite_where_both_gates_underflow(dtype, kernel):
    """f / (f + i) is 0/0 once both sigmoids underflow; the limit there is sigmoid(k_f - k_i)."""
    layer = Recurrent(RecurrentConfig("minlstm", 1, 1, backend="fused")).to(dtype)
    with torch.no_grad():
        layer.weight_ih_l0.copy_(torch.tensor([[1.0], [1.0], [0.0]]))
        layer.bias_ih_l0.copy_(torch.tensor([-800.0, -801.0, 2.0]))  # k_f = -800 + x, k_i = -801 + x
    x = torch.zeros(3, 1, 1, dtype=dtype, requires_grad=True)
    if kernel:
        y, _ = layer(x)
    else:
        with compiled.disabled():
            y, _ = layer(x)
    f_n = torch.sigmoid(torch.tensor(1.0, dtype=F64)).item()  # sigmoid(k_f - k_i)
    expected = [(1 - f_n) * 2, (1 - f_n) * 2 * (1 + f_n), None]
    assert torch.isfinite(y).all()
    assert y[0].item() == pytest.approx(expected[0], rel=1e-6) and y[1].item() == pytest.approx(expected[1], rel=1e-6)
    y.sum().backward()
    assert torch.isfinite(x.grad).all() and all(torch.isfinite(p.grad).all() for p in layer.parameters())


@pytest.mark.parametrize("cell, G", [("mingru", 2), ("minlstm", 3)])
def test_parameters_are_the_input_projection_only(cell, G):
    layer = Recurrent(RecurrentConfig(cell, 3, 8, num_layers=2))
    assert {k: tuple(v.shape) for k, v in layer.state_dict().items()} == {
        "weight_ih_l0": (G * 8, 3), "bias_ih_l0": (G * 8,), "weight_ih_l1": (G * 8, 8), "bias_ih_l1": (G * 8,),
    }  # fmt: skip
    assert layer.config.parameter_count() == sum(p.numel() for p in layer.parameters())


def test_the_minlstm_forget_bias_initialises_its_forget_gate_only():
    layer = Recurrent(RecurrentConfig("minlstm", 3, 4, forget_bias=2.0))
    assert layer.bias_ih_l0.tolist() == [2.0] * 4 + [0.0] * 8


@pytest.mark.parametrize("cell, what", [("mingru", "a minGRU"), ("minlstm", "a minLSTM")])
def test_torch_backends_are_refused_clearly(cell, what):
    with pytest.raises(ValueError) as e:
        RecurrentConfig(cell, 3, 4, backend="native")
    assert str(e.value) == (
        f"backend: expected 'auto', 'fused' or 'autograd' for {what} (torch.nn has no such cell), got 'native'"
    )
    with pytest.raises(ValueError) as e:
        to_torch(Recurrent(RecurrentConfig(cell, 3, 4)))
    assert str(e.value).startswith(f"to_torch: expected a cell torch.nn implements, got {what} (")


@pytest.mark.parametrize("cell", ["mingru", "minlstm"])
def test_a_min_cell_learns_to_recall_two_steps_back(cell):
    """Two layers: one layer's gates see x_t only (it reaches ~65% here), the second's see the first's state."""
    assert recall_accuracy(cell, hidden=48, steps=300, layers=2) > 0.95


@pytest.mark.parametrize("cell", ["mingru", "minlstm"])
def test_the_cli_trains_and_samples_a_min_cell(tmp_path, cell):
    from tests.cli._harness import cli

    (tmp_path / "t.txt").write_text("the cat sat on the mat and the dog sat on the log\n" * 30)
    run = ["--max-steps", "3", "--no-progress", "--device", "cpu", "--hidden-size", "12", "--num-layers", "2"]
    code, _, err = cli("train", tmp_path / "t.txt", "--cell", cell, "--sample-length", "0",
                       "--run-dir", tmp_path / "r", *run)  # fmt: skip
    assert code == 0, err
    assert json.loads((tmp_path / "r" / "config.json").read_text())["model"]["rnn"]["cell"] == cell
    assert cli("sample", tmp_path / "r", "--length", "5", "--seed", "1")[0] == 0
