"""Every registered cell (``rnnkit.cells.variants``), with nothing cell-specific written here: its
hand-written one-step backward passes gradcheck (eager, and kernel-backed where it has a kernel),
its fused step equals its reference step, its generation step too, and its declared parameters
build and initialise. Registering a new cell puts it through all of this (and through
tests/layers, which runs every variant through the whole layer)."""

import pytest
import torch

from rnnkit.cells import CELL_TYPES, REGISTRY
from rnnkit.layers import Recurrent, RecurrentConfig

from ..variants import VARIANTS, cell_of, fused_cell_of, path_params, variant_params
from ._onestep import one_step, reference, step_inputs

H = 5  # every variant's options fit (the projection LSTM's P = 2 < H)


@pytest.mark.parametrize("bias", [True, False], ids=["bias", "no_bias"])
@pytest.mark.parametrize(("variant", "path"), path_params())
def test_hand_written_backward_passes_gradcheck(variant, path, bias):
    cell = fused_cell_of(variant, path, H)
    inputs = step_inputs(cell, H=H, bias=bias)
    assert torch.autograd.gradcheck(lambda *a: one_step(cell, *a), inputs)


@pytest.mark.parametrize(("variant", "path"), path_params())
def test_fused_and_generation_steps_equal_the_reference_step(variant, path):
    cell = fused_cell_of(variant, path, H)
    x, h_prev, c_prev, *w = (t if t is None else t.detach() for t in step_inputs(cell, H=H))
    want = reference(cell, x, h_prev, c_prev, *w)
    for got, ref in zip(one_step(cell, x, h_prev, c_prev, *w), want, strict=True):
        torch.testing.assert_close(got, ref, rtol=0, atol=1e-12)
    h, c = torch.empty_like(h_prev), None if c_prev is None else torch.empty_like(c_prev)
    with torch.no_grad():
        cell.inference_step(x, h_prev, c_prev, h, c, tuple(w))
    for got, ref in zip((h,) if c is None else (h, c), want, strict=True):
        torch.testing.assert_close(got, ref, rtol=0, atol=1e-12)


@pytest.mark.parametrize("variant", variant_params())
def test_declared_parameters_build_a_layer(variant):
    torch.manual_seed(0)
    layer = Recurrent(RecurrentConfig(input_size=3, hidden_size=H, num_layers=2, bidirectional=True, **variant))
    cell = layer.cell
    kinds = [p.kind for p in cell.parameters(3, H)]
    assert len(set(kinds)) == len(kinds) and kinds[0] == "weight_ih"
    assert ("weight_hh" in kinds) != cell.scan  # a scan cell has no recurrent matrix
    for k, suffix in enumerate(("", "_reverse")):
        names = [f"{kind}_l1{suffix}" for kind in kinds]
        assert [getattr(layer, n).shape for n in names] == [p.shape for p in cell.parameters(layer.output_size, H)]
        assert layer.layer_weights(1, k) == tuple(getattr(layer, n) for n in names)
    assert layer.output_size == 2 * cell.state_sizes(H)[0]
    assert all(torch.isfinite(p).all() and p.abs().max() <= 1.0 for p in layer.parameters())


def test_registry_is_what_the_names_come_from():
    assert CELL_TYPES == ("rnn", "lstm", "gru", "indrnn", "lnlstm", "lngru", "mingru", "minlstm")
    assert {v["cell"] for v in VARIANTS.values()} == set(CELL_TYPES)
    assert {e.cell for e in REGISTRY} <= {type(cell_of(v, H)) for v in VARIANTS.values()}


def test_every_cell_option_is_a_config_field_with_the_cell_s_default():
    from rnnkit.cells.registry import DEFAULTS

    config = RecurrentConfig()
    assert {name: getattr(config, name) for name in DEFAULTS} == DEFAULTS
