"""Weights the layer does not hold in ``_parameters`` (a parametrisation such as weight_norm or
spectral_norm, or a weight re-assigned as a plain tensor) are the weights every backend computes
with, and gradients reach what they are computed from; a zero-length sequence is refused the same
way by every backend (torch.nn refuses it too)."""

import pytest
import torch
from torch.nn.utils import parametrizations

from tests.layers._layers import F64, B, D, T, make

BACKENDS = ["fused", "autograd", "native"]
CELLS = ["rnn", "lstm", "gru"]


def _effective_copy(layer, backend):
    """A plain layer holding ``layer``'s effective weights (parametrised ones computed now)."""
    plain = make({"cell": layer.config.cell}, backend)
    with torch.no_grad():
        for name, p in plain.named_parameters():
            p.copy_(getattr(layer, name))
    return plain


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("how", ["weight_norm", "spectral_norm"])
def test_a_parametrised_weight_is_the_weight_every_backend_uses(cell, backend, how):
    layer = make({"cell": cell}, backend)
    getattr(parametrizations, how)(layer, "weight_hh_l0")
    x = torch.randn(T, B, D, dtype=F64)
    out, _ = layer(x)
    want, _ = _effective_copy(layer, backend)(x)
    torch.testing.assert_close(out, want)
    out.sum().backward()
    originals = layer.parametrizations.weight_hh_l0
    grads = [p.grad for p in originals.parameters()]
    assert grads and all(g is not None and g.abs().sum() > 0 for g in grads)


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_weight_reassigned_as_a_plain_tensor_is_used(backend):
    layer = make({"cell": "lstm"}, backend)
    new = torch.randn_like(layer.weight_hh_l0) * 0.3
    del layer.weight_hh_l0
    layer.weight_hh_l0 = new
    x = torch.randn(T, B, D, dtype=F64)
    out, _ = layer(x)
    want, _ = _effective_copy(layer, backend)(x)
    torch.testing.assert_close(out, want)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("batch_first", [False, True])
def test_a_zero_length_sequence_is_refused_alike(backend, batch_first):
    layer = make({"cell": "gru"}, backend, batch_first=batch_first)
    shape = (B, 0, D) if batch_first else (0, B, D)
    with pytest.raises(ValueError, match=r"^input: expected a sequence length T >= 1, got shape"):
        layer(torch.zeros(shape, dtype=F64))
    empty_batch = (0, T, D) if batch_first else (T, 0, D)  # no sequences at all is not refused
    out, _ = layer(torch.zeros(empty_batch, dtype=F64))
    assert out.shape[:2] == empty_batch[:2]
