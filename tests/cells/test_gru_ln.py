"""The layer-norm GRU (issue 18): its equations written out, an identity start, every gain's
gradient on the fused path, and that it learns. (Gradcheck, fused == autograd, padded, chunked and
step == forward run for every registered cell, this one included.)"""

from __future__ import annotations

import torch

from rnnkit.cells import LayerNormGRUCell

from ._tasks import assert_gain_gradients_match, recall_accuracy

F64 = torch.float64


def test_a_step_is_the_reset_after_gru_on_normalised_projections():
    D, H, B = 3, 4, 5
    g = torch.Generator().manual_seed(0)
    w = tuple(torch.randn(p.shape, generator=g, dtype=F64) for p in LayerNormGRUCell().parameters(D, H))
    w_ih, w_hh, b_ih, b_hh, g_x, g_h = w
    x, h = torch.randn(B, D, generator=g, dtype=F64), torch.randn(B, H, generator=g, dtype=F64)
    cell = LayerNormGRUCell()
    h_t, _ = cell.step(cell.project(x, w), h, None, w)

    def ln(v):
        return (v - v.mean(-1, keepdim=True)) / torch.sqrt(v.var(-1, unbiased=False, keepdim=True) + 1e-5)

    v_r, v_z, v_n = (g_x * ln(x @ w_ih.T) + b_ih).chunk(3, dim=1)
    u_r, u_z, u_n = (g_h * ln(h @ w_hh.T) + b_hh).chunk(3, dim=1)
    r, z = torch.sigmoid(v_r + u_r), torch.sigmoid(v_z + u_z)
    n = torch.tanh(v_n + r * u_n)
    assert torch.allclose(h_t, (1 - z) * n + z * h)


def test_gains_start_at_one_and_get_the_autograd_gradient_on_the_fused_path():
    fresh = assert_gain_gradients_match("lngru")
    assert all(torch.equal(fresh[f"gamma_{s}_l{k}"], torch.ones(15)) for s in ("ih", "hh") for k in (0, 1))


def test_it_learns_a_small_sequence_task():
    """Recall the symbol seen two steps back (one-hot inputs)."""
    assert recall_accuracy("lngru") > 0.95
