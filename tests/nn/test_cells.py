"""rnnkit.nn's cells step as torch.nn's cells do, on every backend, with and without autograd."""

from __future__ import annotations

import pytest
import torch

from rnnkit import nn as rnn

from ._dropin import BACKENDS, CELLS, F64, assert_same, grads, pair

CELL_CONFIGS = [
    pytest.param("RNNCell", {}, id="rnn-tanh"),
    pytest.param("RNNCell", {"nonlinearity": "relu", "bias": False}, id="rnn-relu-nobias"),
    pytest.param("LSTMCell", {}, id="lstm"),
    pytest.param("LSTMCell", {"bias": False}, id="lstm-nobias"),
    pytest.param("GRUCell", {}, id="gru"),
    pytest.param("GRUCell", {"bias": False}, id="gru-nobias"),
]


def hidden(name: str, *shape, seed: int = 3):
    g = torch.Generator().manual_seed(seed)
    make = lambda: torch.randn(*shape, generator=g, dtype=F64).requires_grad_()  # noqa: E731
    return (make(), make()) if name == "LSTMCell" else make()


def leaves(hx) -> list:
    return [] if hx is None else list(hx) if isinstance(hx, tuple) else [hx]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name, kwargs", CELL_CONFIGS)
@pytest.mark.parametrize("form", ["batched", "unbatched", "no-hx"])
def test_a_step_and_its_gradients_equal_torchs(name, kwargs, backend, form):
    theirs, ours = pair(name, 5, 7, backend=backend, **kwargs)
    x = torch.randn(*((5,) if form == "unbatched" else (3, 5)), dtype=F64, requires_grad=True)
    hx = None if form == "no-hx" else hidden(name, *((7,) if form == "unbatched" else (3, 7)))
    a, b = theirs(x, hx), ours(x, hx)
    assert_same(a, b)
    for g, h in zip(grads(theirs, a, [x, *leaves(hx)]), grads(ours, b, [x, *leaves(hx)])):
        torch.testing.assert_close(g, h, atol=1e-10, rtol=1e-7)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name, kwargs", CELL_CONFIGS)
def test_generation_without_autograd_equals_torchs(name, kwargs, backend):
    """No autograd: "auto"/"fused" take the compiled whole-step kernel where it runs (float32)."""
    theirs, ours = pair(name, 5, 7, backend=backend, dtype=torch.float32, **kwargs)
    x, hx = torch.randn(6, 2, 5), None
    h_theirs = h_ours = hx
    with torch.no_grad():
        for t in range(6):
            h_theirs, h_ours = theirs(x[t], h_theirs), ours(x[t], h_ours)
    assert_same(h_theirs, h_ours, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("name", CELLS)
def test_zero_sizes_torch_allows(name):
    """torch.nn's cells accept hidden_size 0 (and input_size 0): empty states, inputs ignored."""
    kwargs = {"nonlinearity": "relu"} if name == "RNNCell" else {}
    theirs, ours = pair(name, 10, 0, **kwargs)
    x = torch.randn(3, 10, dtype=F64)
    assert_same(theirs(x), ours(x))
    theirs, ours = pair(name, 0, 6)
    x = torch.randn(3, 0, dtype=F64)
    assert_same(theirs(x), ours(x))


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("which", [0, 1])
def test_an_lstm_cell_can_be_differentiated_through_one_output(backend, which):
    _, ours = pair("LSTMCell", 2, 3, backend=backend)
    s = torch.randn(1, 2, dtype=F64, requires_grad=True)
    ours(s)[which].sum().backward()
    assert s.grad is not None and bool(s.grad.abs().sum() > 0)


@pytest.mark.parametrize("name", CELLS)
def test_a_cell_does_not_read_training(name):
    """Cells behave alike in train and eval (torch's module tests delete ``training`` to check)."""
    cell = getattr(rnn, name)(3, 4)
    del cell.training
    cell(torch.randn(2, 3))


@pytest.mark.parametrize("backend", ["autograd", "native", "auto"])
@pytest.mark.parametrize("name", CELLS)
def test_cells_pass_gradcheck_and_gradgradcheck(name, backend):
    _, ours = pair(name, 3, 4, backend=backend)
    x = torch.randn(2, 3, dtype=F64, requires_grad=True)
    hx = hidden(name, 2, 4)

    def f(x, *state):
        out = ours(x, tuple(state) if len(state) == 2 else state[0])
        return out if isinstance(out, torch.Tensor) else torch.cat(out)

    inputs = (x, *leaves(hx), *ours.parameters())
    f_all = lambda *args: f(*args[: 1 + len(leaves(hx))])  # noqa: E731  (parameters reached through the module)
    assert torch.autograd.gradcheck(f_all, inputs)
    assert torch.autograd.gradgradcheck(f_all, inputs)


def test_a_reset_before_gru_cell_runs_rnnkits_equations():
    """reset_after=False: the original GRU, r_t applied to h before W_hn (torch.nn has no such cell):
    equal to the rnnkit layer's single step with the same weights."""
    from rnnkit.layers import GRU as LayerGRU

    cell = rnn.GRUCell(3, 4, reset_after=False).double()
    layer = LayerGRU(3, 4, reset_after=False, backend="autograd").double()
    with torch.no_grad():
        for name, p in cell.named_parameters():
            getattr(layer, f"{name}_l0").copy_(p)
    x, h = torch.randn(2, 3, dtype=F64), torch.randn(2, 4, dtype=F64)
    torch.testing.assert_close(cell(x, h), layer.step(x, h[None])[0])


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name", CELLS)
def test_a_parametrised_or_reassigned_cell_weight_is_the_one_used(name, backend):
    theirs, ours = pair(name, 5, 7, backend=backend)
    for module in (theirs, ours):
        torch.nn.utils.parametrizations.weight_norm(module, "weight_hh")
    x, hx = torch.randn(3, 5, dtype=F64), hidden(name, 3, 7)
    assert_same(theirs(x, hx), ours(x, hx))
    _, plain = pair(name, 5, 7, backend=backend)
    w = plain.weight_ih.detach() * 2
    del plain.weight_ih
    plain.weight_ih = w
    reference, _ = pair(name, 5, 7)
    with torch.no_grad():
        reference.weight_ih.mul_(2)
    assert_same(reference(x, hx), plain(x, hx))
