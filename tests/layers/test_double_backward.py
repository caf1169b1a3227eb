"""Gradients of gradients (gradient penalties, meta-learning): every backend can be differentiated
twice, and the fused backend's second derivatives equal the reference loop's (gradgradcheck in
float64, with and without lengths, stacked and bidirectional). The default GRU (auto picks fused
for training on the CPU) passes too."""

import pytest
import torch
from torch.autograd import gradcheck, gradgradcheck

from tests.layers._layers import F64, LENGTHS, B, D, T, make, twin

CELLS = ["rnn", "lstm", "gru"]


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("lengths", [None, LENGTHS])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_the_fused_backend_passes_gradgradcheck(cell, lengths, bidirectional):
    layer = make({"cell": cell}, "fused", num_layers=2, bidirectional=bidirectional, hidden_size=3)
    x = torch.randn(T, B, D, dtype=F64, requires_grad=True)
    lens = None if lengths is None else torch.tensor(lengths)

    def f(x):
        out, state = layer(x, lengths=lens)
        h = state[0] if isinstance(state, tuple) else state
        return out.sum() + h.pow(2).sum()

    assert gradcheck(f, (x,))
    assert gradgradcheck(f, (x,))


@pytest.mark.parametrize("cell", CELLS)
def test_second_derivatives_agree_across_backends(cell):
    fused = make({"cell": cell}, "fused")
    x = torch.randn(T, B, D, dtype=F64)
    results = {}
    for name, layer in (("fused", fused), ("autograd", twin(fused, backend="autograd"))):
        xi = x.clone().requires_grad_()
        (g,) = torch.autograd.grad(layer(xi)[0].pow(2).sum(), xi, create_graph=True)
        g.pow(2).sum().backward()  # a gradient penalty
        results[name] = (g.detach(), xi.grad, [p.grad for p in layer.parameters()])
    (g_f, dx_f, dw_f), (g_a, dx_a, dw_a) = results["fused"], results["autograd"]
    torch.testing.assert_close(g_f, g_a)
    torch.testing.assert_close(dx_f, dx_a)
    for a, b in zip(dw_f, dw_a, strict=True):
        torch.testing.assert_close(a, b)


def test_the_default_gru_can_be_differentiated_twice():
    from rnnkit.layers import GRU

    layer = GRU(4, 4).double()
    x = torch.randn(6, 2, 4, dtype=F64, requires_grad=True)
    (g,) = torch.autograd.grad(layer(x)[0].sum(), x, create_graph=True)
    g.sum().backward()
    assert x.grad is not None and torch.isfinite(x.grad).all()
