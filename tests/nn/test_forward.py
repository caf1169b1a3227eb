"""rnnkit.nn's layers compute what torch.nn computes, under torch.nn's calling conventions, on every
backend: outputs, states and every gradient (float64)."""

from __future__ import annotations

import pytest
import torch
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from rnnkit import nn as rnn

from ._dropin import BACKENDS, F64, assert_same, grads, pair

CONFIGS = [
    pytest.param("RNN", {"nonlinearity": "relu"}, id="rnn-relu"),
    pytest.param("RNN", {"bidirectional": True, "bias": False}, id="rnn-bi-nobias"),
    pytest.param("LSTM", {}, id="lstm"),
    pytest.param("LSTM", {"bidirectional": True, "batch_first": True}, id="lstm-bi-bf"),
    pytest.param("LSTM", {"proj_size": 2, "bidirectional": True}, id="lstm-proj-bi"),
    pytest.param("GRU", {"batch_first": True}, id="gru-bf"),
    pytest.param("GRU", {"bidirectional": True, "bias": False}, id="gru-bi-nobias"),
]
D, H, L, T, B = 3, 4, 2, 5, 3


def state_for(theirs, batch: int, unbatched: bool = False, seed: int = 2):
    """A random initial state of torch.nn's shapes (unbatched: without the batch dimension)."""
    g = torch.Generator().manual_seed(seed)
    k = theirs.num_layers * (2 if theirs.bidirectional else 1)
    h_size = theirs.proj_size or theirs.hidden_size
    shapes = [(k, batch, h_size)] + ([(k, batch, theirs.hidden_size)] if theirs.mode == "LSTM" else [])
    parts = [torch.randn(s, generator=g, dtype=F64).requires_grad_() for s in shapes]
    if unbatched:
        parts = [p.detach()[:, 0].requires_grad_() for p in parts]
    return tuple(parts) if len(parts) == 2 else parts[0]


def state_leaves(hx) -> list:
    return [] if hx is None else list(hx) if isinstance(hx, tuple) else [hx]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name, kwargs", CONFIGS)
@pytest.mark.parametrize("form", ["batched", "unbatched", "no-hx"])
def test_outputs_states_and_gradients_equal_torchs(name, kwargs, backend, form):
    theirs, ours = pair(name, D, H, L, backend=backend, **kwargs)
    bf = kwargs.get("batch_first", False)
    shape = (T, D) if form == "unbatched" else ((B, T, D) if bf else (T, B, D))
    x = torch.randn(shape, dtype=F64, requires_grad=True)
    hx = None if form == "no-hx" else state_for(theirs, B, unbatched=form == "unbatched")
    a, b = theirs(x, hx), ours(x, hx)
    assert_same(a, b)
    leaves = [x, *state_leaves(hx)]
    for g, h in zip(grads(theirs, a, leaves), grads(ours, b, leaves)):
        torch.testing.assert_close(g, h, atol=1e-10, rtol=1e-7)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name, kwargs", CONFIGS)
@pytest.mark.parametrize("enforce_sorted", [True, False])
def test_packed_sequences_in_and_out(name, kwargs, backend, enforce_sorted):
    """hx is taken and h_n returned in the batch's own order, as torch.nn (unsorted packing)."""
    theirs, ours = pair(name, D, H, L, backend=backend, **kwargs)
    bf = kwargs.get("batch_first", False)
    lengths = [5, 4, 2] if enforce_sorted else [2, 5, 4]
    x = torch.randn((B, T, D) if bf else (T, B, D), dtype=F64)
    packed = pack_padded_sequence(x, lengths, batch_first=bf, enforce_sorted=enforce_sorted)
    packed.data.requires_grad_()
    hx = state_for(theirs, B)
    a, b = theirs(packed, hx), ours(packed, hx)
    assert type(b[0]) is type(a[0])
    for field in ("batch_sizes", "sorted_indices", "unsorted_indices"):
        assert torch.equal(getattr(a[0], field), getattr(b[0], field)) if getattr(a[0], field) is not None else True
    assert_same(a, b)
    leaves = [packed.data, *state_leaves(hx)]
    for g, h in zip(grads(theirs, a, leaves), grads(ours, b, leaves)):
        torch.testing.assert_close(g, h, atol=1e-10, rtol=1e-7)


@pytest.mark.parametrize("backend", BACKENDS)
def test_rnnkit_lengths_keyword_equals_a_packed_sequence(backend):
    theirs, ours = pair("LSTM", D, H, L, backend=backend, bidirectional=True)
    x, lengths = torch.randn(T, B, D, dtype=F64), torch.tensor([2, 5, 4])
    out, state = ours(x, lengths=lengths)
    packed_out, packed_state = theirs(pack_padded_sequence(x, lengths, enforce_sorted=False))
    padded, _ = pad_packed_sequence(packed_out, total_length=T)
    assert_same((out, state), (padded, packed_state))


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name", ["RNN", "LSTM", "GRU"])
def test_an_empty_batch_gives_empty_outputs_and_gradients(name, backend):
    theirs, ours = pair(name, D, H, L, backend=backend)
    x = torch.zeros(T, 0, D, dtype=F64, requires_grad=True)
    a, b = theirs(x), ours(x)
    assert_same(a, b)
    b[0].sum().backward()
    assert x.grad.shape == x.shape and all(p.grad is not None for p in ours.parameters())


@pytest.mark.parametrize("backend", BACKENDS)
def test_zero_initial_state_equals_no_state(backend):
    _, ours = pair("LSTM", D, 6, L, backend=backend, proj_size=2, bidirectional=True)
    x = torch.randn(T, B, D, dtype=F64)
    zeros = (torch.zeros(4, B, 2, dtype=F64), torch.zeros(4, B, 6, dtype=F64))
    assert_same(ours(x), ours(x, zeros), atol=0, rtol=0)


@pytest.mark.parametrize("backend", BACKENDS)
def test_dropout_between_layers_is_torchs_rule(backend):
    """p=1 zeroes every layer's output but the top one's (deterministic, so equal to torch.nn's);
    0 < p < 1 draws a fresh mask each call in training, none in eval; the attribute can be changed
    after construction and is read at every forward."""
    theirs, ours = pair("RNN", D, H, 3, backend=backend, dropout=1.0)
    x = torch.randn(T, B, D, dtype=F64)
    assert_same(theirs(x), ours(x))
    ours.dropout = 0.5
    first, second = ours(x)[0], ours(x)[0]
    assert not torch.equal(first, second)
    ours.eval()
    assert torch.equal(ours(x)[0], ours(x)[0])
    theirs.eval()
    assert_same(theirs(x), ours(x))
    ours.train()
    ours.dropout = 0.0
    theirs.dropout = 0.0
    theirs.train()
    assert_same(theirs(x), ours(x))


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("p", [0.276, 0.731])
def test_dropout_scales_the_kept_activations_as_torch(backend, p):
    """torch's own dropout check: all-ones weights, relu, no bias: a layer-1 unit sees the sum of
    the kept layer-0 units (10 each), each scaled by exactly 1/(1-p), torch.nn's scale (rnnkit's own
    layers scale by 1/q, q the 16-bit keep rate, so that E[y] = x exactly)."""
    ours = rnn.RNN(10, 1000, 2, "relu", False, dropout=p, backend=backend).double()
    with torch.no_grad():
        for w in ours.parameters():
            w.fill_(1.0)
    out, h = ours(torch.ones(1, 1, 10, dtype=F64))
    assert torch.equal(h[0], torch.full_like(h[0], 10.0))
    value = out[0, 0, 0].item()
    assert torch.equal(out, torch.full_like(out, value))  # the same sum reaches every top unit
    kept = value * (1 - p) / 10
    assert 8000 < value < 12000 and abs(kept - round(kept)) < 1e-3


@pytest.mark.parametrize("backend", BACKENDS)
def test_batch_first_changed_after_construction_is_honoured(backend):
    theirs, ours = pair("GRU", D, H, L, backend=backend)
    theirs.batch_first = ours.batch_first = True
    x = torch.randn(B, T, D, dtype=F64)
    assert_same(theirs(x), ours(x))


@pytest.mark.parametrize("backend", BACKENDS)
def test_non_contiguous_inputs_and_states(backend):
    theirs, ours = pair("LSTM", D, H, L, backend=backend)
    x = torch.randn(T, B, 2 * D, dtype=F64)[..., ::2]
    h = torch.randn(L, B, 2 * H, dtype=F64)[..., ::2]
    c = torch.randn(L, 2 * B, H, dtype=F64)[:, ::2]
    assert not (x.is_contiguous() or h.is_contiguous() or c.is_contiguous())
    assert_same(theirs(x, (h, c)), ours(x, (h, c)))


@pytest.mark.parametrize("backend", BACKENDS)
def test_unbatched_outputs_are_contiguous(backend):
    _, ours = pair("GRU", D, H, L, backend=backend, batch_first=True)
    out, h = ours(torch.randn(T, D, dtype=F64))
    assert out.shape == (T, H) and h.shape == (L, H) and out.is_contiguous() and h.is_contiguous()


@pytest.mark.parametrize("backend", BACKENDS)
def test_backward_is_repeatable(backend):
    _, ours = pair("GRU", D, H, L, backend=backend)
    x = torch.randn(T, B, D, dtype=F64, requires_grad=True)
    out = ours(x)[0].sum()
    seen = []
    for _ in range(3):
        ours.zero_grad()
        x.grad = None
        out.backward(retain_graph=True)
        seen.append([x.grad.clone()] + [p.grad.clone() for p in ours.parameters()])
    for later in seen[1:]:
        assert all(torch.equal(a, b) for a, b in zip(seen[0], later))


@pytest.mark.parametrize("backend", BACKENDS)
def test_step_of_a_drop_in_equals_its_forward(backend):
    _, ours = pair("LSTM", D, H, L, backend=backend)
    x = torch.randn(T, B, D, dtype=F64)
    out, state = ours(x)
    step_state, outs = None, []
    for t in range(T):
        y, step_state = ours.step(x[t], step_state)
        outs.append(y)
    torch.testing.assert_close(torch.stack(outs), out)
    assert_same(step_state, state)
