"""Differential fuzzing against torch.nn: random configurations, torch's weights, every backend.

Each example draws a layer (cell, sizes, layers, direction, batch_first, bias, proj_size) and a call
(packed, padded or unbatched; with or without hx; float32 or float64), gives rnnkit.nn and torch.nn
the same weights, and compares outputs, states and the gradients of the input, the initial state and
every parameter. Derandomised: the same examples on every run (a failure reproduces).
"""

from __future__ import annotations

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence

from rnnkit import nn as rnn

from ._dropin import BACKENDS, flat, grads

TOLERANCE = {torch.float32: dict(atol=2e-5, rtol=2e-4), torch.float64: dict(atol=1e-10, rtol=1e-7)}


@st.composite
def cases(draw):
    name = draw(st.sampled_from(["RNN", "LSTM", "GRU"]))
    H = draw(st.integers(1, 5))
    kwargs = {
        "num_layers": draw(st.integers(1, 3)),
        "bias": draw(st.booleans()),
        "batch_first": draw(st.booleans()),
        "bidirectional": draw(st.booleans()),
    }
    if name == "RNN":
        kwargs["nonlinearity"] = draw(st.sampled_from(["tanh", "relu"]))
    if name == "LSTM" and H > 1:
        kwargs["proj_size"] = draw(st.integers(0, H - 1))
    call = {
        "form": draw(st.sampled_from(["padded", "packed", "unbatched"])),
        "T": draw(st.integers(1, 6)),
        "B": draw(st.integers(1, 4)),
        "hx": draw(st.booleans()),
        "dtype": draw(st.sampled_from([torch.float32, torch.float64])),
        "seed": draw(st.integers(0, 2**16)),
    }
    return name, draw(st.integers(1, 4)), H, kwargs, call


def state(module, B: int, unbatched: bool, dtype, g):
    k = module.num_layers * (2 if module.bidirectional else 1)
    shapes = [(k, B, module.proj_size or module.hidden_size)]
    if module.mode == "LSTM":
        shapes.append((k, B, module.hidden_size))
    parts = [torch.randn(s, generator=g, dtype=dtype) for s in shapes]
    parts = [(p[:, 0] if unbatched else p).requires_grad_() for p in parts]
    return tuple(parts) if len(parts) == 2 else parts[0]


@pytest.mark.parametrize("backend", BACKENDS)
@settings(max_examples=60, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(case=cases())
def test_random_configurations_agree_with_torch(backend, case):
    name, D, H, kwargs, call = case
    dtype, T, B = call["dtype"], call["T"], call["B"]
    torch.manual_seed(call["seed"])
    ours = getattr(rnn, name)(D, H, backend=backend, **kwargs).to(dtype)
    theirs = getattr(nn, name)(D, H, **kwargs).to(dtype)
    theirs.load_state_dict(ours.state_dict())
    g = torch.Generator().manual_seed(call["seed"])
    bf = kwargs["batch_first"]
    unbatched = call["form"] == "unbatched"
    x = torch.randn((T, D) if unbatched else ((B, T, D) if bf else (T, B, D)), generator=g, dtype=dtype)
    hx = state(theirs, B, unbatched, dtype, g) if call["hx"] else None
    if call["form"] == "packed":
        lengths = torch.randint(1, T + 1, (B,), generator=g)
        lengths[0] = T
        x = pack_padded_sequence(x, lengths, batch_first=bf, enforce_sorted=False)
        x.data.requires_grad_()
        leaves = [x.data]
    else:
        x.requires_grad_()
        leaves = [x]
    leaves += [] if hx is None else list(hx) if isinstance(hx, tuple) else [hx]
    a, b = theirs(x, hx), ours(x, hx)
    for p, q in zip(flat(a), flat(b)):
        torch.testing.assert_close(q, p, **TOLERANCE[dtype])
    for p, q in zip(grads(theirs, a, leaves), grads(ours, b, leaves)):
        torch.testing.assert_close(q, p, **TOLERANCE[dtype])


@st.composite
def cell_cases(draw):
    name = draw(st.sampled_from(["RNNCell", "LSTMCell", "GRUCell"]))
    kwargs = {"bias": draw(st.booleans())}
    if name == "RNNCell":
        kwargs["nonlinearity"] = draw(st.sampled_from(["tanh", "relu"]))
    call = {
        "B": draw(st.one_of(st.none(), st.integers(1, 4))),  # None: unbatched
        "hx": draw(st.booleans()),
        "grad": draw(st.booleans()),
        "dtype": draw(st.sampled_from([torch.float32, torch.float64])),
        "seed": draw(st.integers(0, 2**16)),
    }
    return name, draw(st.integers(1, 5)), draw(st.integers(1, 6)), kwargs, call


@pytest.mark.parametrize("backend", BACKENDS)
@settings(max_examples=40, deadline=None, derandomize=True)
@given(case=cell_cases())
def test_random_cells_agree_with_torch(backend, case):
    name, D, H, kwargs, call = case
    dtype, B = call["dtype"], call["B"]
    torch.manual_seed(call["seed"])
    ours = getattr(rnn, name)(D, H, backend=backend, **kwargs).to(dtype)
    theirs = getattr(nn, name)(D, H, **kwargs).to(dtype)
    theirs.load_state_dict(ours.state_dict())
    g = torch.Generator().manual_seed(call["seed"])
    batch = () if B is None else (B,)
    x = torch.randn(*batch, D, generator=g, dtype=dtype).requires_grad_(call["grad"])
    hx = None
    if call["hx"]:
        parts = [torch.randn(*batch, H, generator=g, dtype=dtype).requires_grad_(call["grad"]) for _ in range(2)]
        hx = tuple(parts) if name == "LSTMCell" else parts[0]
    with torch.set_grad_enabled(call["grad"]):  # without: the generation path (compiled kernels)
        a, b = theirs(x, hx), ours(x, hx)
    for p, q in zip(flat(a), flat(b)):
        torch.testing.assert_close(q, p, **TOLERANCE[dtype])
    if call["grad"]:
        leaves = [x] + ([] if hx is None else list(hx) if isinstance(hx, tuple) else [hx])
        for p, q in zip(grads(theirs, a, leaves), grads(ours, b, leaves)):
            torch.testing.assert_close(q, p, **TOLERANCE[dtype])
