"""Builders shared by the drop-in tests: a torch.nn module and its rnnkit.nn twin, outputs flattened."""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch.nn.utils.rnn import PackedSequence

from rnnkit import nn as rnn

BACKENDS = ("auto", "fused", "autograd", "native")
LAYERS = ("RNN", "LSTM", "GRU")
CELLS = ("RNNCell", "LSTMCell", "GRUCell")
F64 = torch.float64


def pair(name: str, *args, backend: str = "auto", dtype=F64, seed: int = 0, **kwargs):
    """(torch.nn.<name>, rnnkit.nn.<name>) with the same arguments and the same weights."""
    torch.manual_seed(seed)
    ours = getattr(rnn, name)(*args, backend=backend, **kwargs).to(dtype)
    theirs = getattr(nn, name)(*args, **kwargs).to(dtype)
    theirs.load_state_dict(ours.state_dict())
    return theirs, ours


def flat(result) -> list[Tensor]:
    """Every tensor of a forward's result (output, h_n, c_n; a PackedSequence's data)."""
    if isinstance(result, PackedSequence):
        return [result.data]
    if isinstance(result, Tensor):
        return [result]
    return [t for part in result for t in flat(part)]


def assert_same(a, b, atol: float = 1e-10, rtol: float = 1e-7) -> None:
    xs, ys = flat(a), flat(b)
    assert len(xs) == len(ys)
    for x, y in zip(xs, ys):
        assert x.shape == y.shape
        torch.testing.assert_close(x, y, atol=atol, rtol=rtol)


def grads(module: nn.Module, result, inputs: list[Tensor]) -> list[Tensor]:
    """d(sum of every output with fixed random weights)/d(inputs and every parameter)."""
    outs = flat(result)
    g = torch.Generator().manual_seed(7)
    loss = sum((o * torch.randn(o.shape, generator=g, dtype=o.dtype)).sum() for o in outs)
    wrt = [t for t in inputs if t.requires_grad] + list(module.parameters())
    return list(torch.autograd.grad(loss, wrt, allow_unused=True))
