"""Cell.gates: the gate activations of one step agree with the cell's own step (every registered cell)."""

import pytest
import torch

from rnnkit.cells import CELL_TYPES, GATE_ORDER

from ..variants import VARIANTS, cell_of, variant_params, weights

B, D, H = 3, 4, 5


def step_inputs(variant: dict, seed: int = 0):
    cell = cell_of(variant)
    g = torch.Generator().manual_seed(seed)
    w = tuple(weights(cell, D, H, generator=g))
    h_size, c_size = cell.state_sizes(H)
    x = torch.randn(B, D, dtype=torch.float64, generator=g)
    h = torch.randn(B, h_size, dtype=torch.float64, generator=g)
    c = torch.randn(B, c_size, dtype=torch.float64, generator=g) if c_size is not None else None
    return cell, (cell.project(x, w), h, c, w)


@pytest.mark.parametrize("variant", variant_params())
def test_gates_reproduce_the_reference_step(variant):
    cell, args = step_inputs(variant)
    x_proj, h, c, w = args
    with torch.no_grad():
        gates = cell.gates(*args)
        h_t, c_t = cell.step(*args)
    assert list(gates) == ([] if cell.gate_order == ("h",) else list(GATE_ORDER[cell.name]))  # no gates
    for value in gates.values():
        assert value.shape == (B, H)
    if cell.name == "lstm":
        i, f, g, o = (gates[k] for k in "ifgo")
        assert torch.allclose(c_t, f * c + i * g)
        m_t = o * torch.tanh(c_t)  # the projection LSTM projects it: h_t = m_t W_hr^T
        assert torch.allclose(h_t, m_t if len(w) == 4 else m_t @ w[4].t())
        assert bool(((0 < i) & (i < 1) & (0 < f) & (f < 1) & (0 < o) & (o < 1)).all())
    elif cell.name == "gru":
        r, z, n = gates["r"], gates["z"], gates["n"]
        assert torch.allclose(h_t, (1 - z) * n + z * h)
        assert bool(((0 < r) & (r < 1)).all())
    elif cell.name == "mingru":
        z, h_tilde = gates["z"], gates["h"]
        assert torch.allclose(h_t, (1 - z) * h + z * h_tilde)
    elif cell.name == "minlstm":
        f, i, h_tilde = gates["f"], gates["i"], gates["h"]
        assert torch.allclose(f + i, torch.ones_like(f))  # normalised
        assert torch.allclose(h_t, f * h + i * h_tilde)


def test_every_variant_is_covered():
    assert {v["cell"] for v in VARIANTS.values()} == set(CELL_TYPES)
