"""The layer-norm LSTM (issue 18): its equations written out against F.layer_norm, its
initialisation (an identity normalisation to start), its gradients through every gain, that it
learns, and the CLI. (Gradcheck of the hand-written backward, fused == autograd, padded ==
per-sequence, chunked == whole and step == forward run for every registered cell, this one
included, in tests/cells and tests/layers.)"""

from __future__ import annotations

import json

import torch
import torch.nn.functional as F

from rnnkit.cells import LayerNormLSTMCell
from rnnkit.layers import Recurrent, RecurrentConfig

from ._tasks import assert_gain_gradients_match, recall_accuracy

F64 = torch.float64


def weights(D: int, H: int, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    shapes = [p.shape for p in LayerNormLSTMCell().parameters(D, H)]
    return tuple(torch.randn(s, generator=g, dtype=F64) for s in shapes)


def test_a_step_is_ba_et_al_s_equations():
    D, H, B = 3, 4, 5
    w = weights(D, H)
    w_ih, w_hh, b_ih, b_hh, g_x, g_h, g_c, b_c = w
    g = torch.Generator().manual_seed(1)
    x, h, c = (torch.randn(B, n, generator=g, dtype=F64) for n in (D, H, H))
    cell = LayerNormLSTMCell()
    h_t, c_t = cell.step(cell.project(x, w), h, c, w)

    def ln(v):  # written out: (v - mean) / sqrt(var + eps), biased variance
        return (v - v.mean(-1, keepdim=True)) / torch.sqrt(v.var(-1, unbiased=False, keepdim=True) + 1e-5)

    a = g_x * ln(x @ w_ih.T) + g_h * ln(h @ w_hh.T) + b_ih + b_hh
    i, f, gg, o = a.chunk(4, dim=1)
    c_expected = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(gg)
    h_expected = torch.sigmoid(o) * torch.tanh(g_c * ln(c_expected) + b_c)
    assert torch.allclose(c_t, c_expected) and torch.allclose(h_t, h_expected)
    assert torch.allclose(ln(c_expected), F.layer_norm(c_expected, (H,), eps=1e-5))


def test_initialisation_starts_from_unscaled_normalisations():
    torch.manual_seed(0)
    layer = Recurrent(RecurrentConfig("lnlstm", 3, 6, num_layers=2))
    for k in (0, 1):
        assert torch.equal(getattr(layer, f"gamma_ih_l{k}"), torch.ones(24))
        assert torch.equal(getattr(layer, f"gamma_hh_l{k}"), torch.ones(24))
        assert torch.equal(getattr(layer, f"gamma_c_l{k}"), torch.ones(6))
        assert torch.equal(getattr(layer, f"beta_c_l{k}"), torch.zeros(6))
        assert torch.equal(getattr(layer, f"bias_ih_l{k}")[6:12], torch.ones(6))  # the LSTM's forget bias


def test_every_gain_gets_the_autograd_gradient_on_the_fused_path():
    assert_gain_gradients_match("lnlstm")


def test_it_learns_a_small_sequence_task():
    """Recall the symbol seen two steps back (one-hot inputs: a normalised projection of a scalar
    input would keep only its sign, so a regression on scalars is not a fair task for this cell)."""
    assert recall_accuracy("lnlstm") > 0.95


def test_the_cli_trains_and_samples_a_layer_norm_lstm(tmp_path):
    from tests.cli._harness import cli

    (tmp_path / "t.txt").write_text("the cat sat on the mat and the dog sat on the log\n" * 30)
    run = ["--max-steps", "3", "--no-progress", "--device", "cpu", "--hidden-size", "12"]
    code, _, err = cli("train", tmp_path / "t.txt", "--cell", "lnlstm", "--sample-length", "0",
                       "--run-dir", tmp_path / "r", *run)  # fmt: skip
    assert code == 0, err
    assert json.loads((tmp_path / "r" / "config.json").read_text())["model"]["rnn"]["cell"] == "lnlstm"
    assert cli("sample", tmp_path / "r", "--length", "5", "--seed", "1")[0] == 0
