"""The parallel scan (rnnkit.layers.scan): the chunked scan equals the step-by-step recurrence in
float64 at every length (sequential, chunked, chunked with a tail, chunked twice over), its reverse
is the backward's recursion, and the scan cells' three paths (compiled kernel, eager chunked scan,
autograd step by step) agree on outputs and every gradient, with lengths."""

from __future__ import annotations

import pytest
import torch

from rnnkit.cells import compiled
from rnnkit.layers import Recurrent, RecurrentConfig
from rnnkit.layers import scan as scan_module
from rnnkit.layers.scan import linear_scan, reverse_linear_scan

F64 = torch.float64


def recurrence(a, b, h0):
    h, out = h0, []
    for t in range(a.shape[0]):
        h = a[t] * h + b[t]
        out.append(h)
    return torch.stack(out)


@pytest.mark.parametrize("T", [1, 2, 15, 16, 17, 63, 64, 100, 257, 1000, 4099])
def test_the_scan_equals_the_recurrence(T):
    g = torch.Generator().manual_seed(T)
    a = torch.rand(T, 3, 4, dtype=F64, generator=g)
    b = torch.randn(T, 3, 4, dtype=F64, generator=g)
    h0 = torch.randn(3, 4, dtype=F64, generator=g)
    torch.testing.assert_close(linear_scan(a, b, h0), recurrence(a, b, h0), rtol=1e-13, atol=1e-13)


def test_the_scan_writes_into_a_strided_output_and_reads_strided_inputs():
    a = torch.rand(200, 6, dtype=F64)[:, ::2]
    b = torch.randn(200, 6, dtype=F64)[:, 1::2]
    out = torch.zeros(200, 3, 2, dtype=F64)[:, :, 0]
    h0 = torch.randn(3, dtype=F64)
    assert linear_scan(a, b, h0, out=out) is out
    torch.testing.assert_close(out, recurrence(a, b, h0), rtol=1e-13, atol=1e-13)


def test_gates_at_zero_and_one_reset_and_keep_the_state():
    a = torch.tensor([1.0, 0.0, 1.0, 1.0] * 10, dtype=F64)[:, None]
    b = torch.arange(40, dtype=F64)[:, None] * (a == 0)
    h = linear_scan(a, b, torch.tensor([7.0], dtype=F64))
    assert h[0].item() == 7 and h[1].item() == 1 and h[3].item() == 1 and h[5].item() == 5


def test_a_long_float32_scan_keeps_its_precision():
    """No division, no logarithm: 20,000 steps of slow decay lose nothing against float64."""
    g = torch.Generator().manual_seed(0)
    a = 1 - 1e-3 * torch.rand(20000, 64, dtype=F64, generator=g)
    b = torch.randn(20000, 64, dtype=F64, generator=g)
    h0 = torch.full((64,), 100.0, dtype=F64)
    want = linear_scan(a, b, h0)
    got = linear_scan(a.float(), b.float(), h0.float()).double()
    assert ((got - want).abs().max() / want.abs().max()).item() < 1e-4


@pytest.mark.parametrize("T", [1, 5, 40, 300])
def test_the_reverse_scan_is_the_backward_recursion(T):
    g = torch.Generator().manual_seed(T)
    a, grads = torch.rand(T, 5, dtype=F64, generator=g), torch.randn(T, 5, dtype=F64, generator=g)
    last = torch.randn(5, dtype=F64, generator=g)
    want, d = [], last
    for t in reversed(range(T)):
        d = grads[t] + (d if t == T - 1 else a[t + 1] * d)
        want.append(d)
    torch.testing.assert_close(reverse_linear_scan(a, grads, last), torch.stack(want[::-1]), rtol=1e-13, atol=1e-13)


def run(layer, x, lengths, eager=False):
    x = x.detach().requires_grad_()
    if eager:
        with compiled.disabled():
            y, h = layer(x, lengths=lengths)
            (y.sin().sum() + h.cos().sum()).backward()
    else:
        y, h = layer(x, lengths=lengths)
        (y.sin().sum() + h.cos().sum()).backward()
    grads = [x.grad] + [p.grad.clone() for p in layer.parameters()]
    layer.zero_grad()
    return y.detach(), h.detach(), grads


@pytest.mark.parametrize("cell", ["mingru", "minlstm"])
@pytest.mark.parametrize("T", [7, 70])
def test_kernel_eager_scan_and_autograd_agree(cell, T):
    torch.manual_seed(0)
    fused = Recurrent(RecurrentConfig(cell, 4, 6, num_layers=2, bidirectional=True, backend="fused")).double()
    reference = Recurrent(fused.config, backend="autograd").double()
    reference.load_state_dict(fused.state_dict())
    x = torch.randn(T, 3, 4, dtype=F64)
    lengths = torch.tensor([T, T // 2, 1])
    want = run(reference, x, lengths)
    for eager in (False, True):
        got = run(fused, x, lengths, eager)
        for g, w in zip((got[0], got[1], *got[2]), (want[0], want[1], *want[2])):
            torch.testing.assert_close(g, w, rtol=1e-10, atol=1e-12)


def test_the_fused_backend_runs_the_scan_not_a_step_loop(monkeypatch):
    calls = []
    real = scan_module.linear_scan
    monkeypatch.setattr(scan_module, "linear_scan", lambda *a, **k: calls.append(a[0].shape) or real(*a, **k))
    layer = Recurrent(RecurrentConfig("mingru", 3, 5, backend="fused"))
    with compiled.disabled():
        layer(torch.randn(50, 2, 3))[0].sum().backward()
    assert calls[0] == (50, 2, 5)  # the forward: one scan over all 50 steps
    assert (49, 2, 5) in calls  # the backward: the reverse scan (its first step is given)
