"""The compiled step kernels (rnnkit.cells.compiled: LSTM, GRU reset_after) and the kernel-backed
cells that run them (rnnkit.cells.kernel_cells) against the cells' eager ops, their build and cache,
and the fallback when they cannot be built."""

from __future__ import annotations

import contextlib
import subprocess
import sys
import warnings

import pytest
import torch

from rnnkit.cells import GRUCell, LSTMCell, compiled
from rnnkit.cells.kernel_cells import KernelGRUCell, KernelLSTMCell
from rnnkit.layers import Recurrent, RecurrentConfig

from ..variants import KERNEL_VARIANTS, variant_params

needs_compiler = pytest.mark.skipif(
    compiled._compiler() is None or not compiled._enabled, reason="no C++ compiler here, or RNNKIT_KERNELS=0"
)


def _forward(a, c_prev, eager: bool):
    """One LSTM forward_step on copies: (activations, c_t, tanh c_t, h_t)."""
    n, H = c_prev.shape
    a = a.clone()
    c, h, tc = torch.empty_like(c_prev), torch.empty_like(c_prev), torch.empty_like(c_prev)
    zero = torch.zeros(n, H, dtype=a.dtype)
    w_hh_t = torch.zeros(H, 4 * H, dtype=a.dtype)  # the recurrent GEMM adds nothing: pure gate math
    if eager:
        LSTMCell().forward_step(a, zero, c_prev, h, c, {"tc": tc}, (w_hh_t.t(), w_hh_t, None))
    else:
        assert compiled.usable("lstm", a, c_prev, c, tc, h)
        KernelLSTMCell().forward_step(a, zero, c_prev, h, c, {"tc": tc}, (w_hh_t.t(), w_hh_t, None))
    return a, c, tc, h


@needs_compiler
def test_kernel_builds_here_and_says_so():
    names = ("lstm", "gru", "lnlstm", "lngru", "scan")
    assert all(compiled.library(name) is not None for name in names)
    assert compiled.status() == dict.fromkeys(names, "compiled")


@needs_compiler
@pytest.mark.parametrize("dtype,atol", [(torch.float32, 1e-6), (torch.float64, 1e-15)], ids=["f32", "f64"])
def test_forward_kernel_equals_eager_ops(dtype, atol):
    g = torch.Generator().manual_seed(0)
    n, H = 5, 37  # H not a multiple of any vector width: the loop tails run too
    a = torch.randn(n, 4 * H, dtype=dtype, generator=g) * 4
    a[0, :8] = torch.tensor([0.0, -1e-6, 1e-6, 30.0, -30.0, 100.0, -100.0, 88.5], dtype=dtype)  # saturation
    c_prev = torch.randn(n, H, dtype=dtype, generator=g)
    for ours, eager in zip(_forward(a, c_prev, eager=False), _forward(a, c_prev, eager=True), strict=True):
        torch.testing.assert_close(ours, eager, rtol=0, atol=atol)


def _gru_forward(a, hw, h_prev, eager: bool):
    """One GRU (reset_after) forward_step on copies, the recurrent GEMM adding nothing on top of
    the given hw: (activations, h_t)."""
    n, H = h_prev.shape
    a, h, cache = a.clone(), torch.empty_like(h_prev), {"hw": torch.empty_like(hw)}
    zero_w, b_hh = torch.zeros(H, 3 * H, dtype=a.dtype), hw.clone()  # hw = h W_hh^T + b_hh = b_hh
    cell = GRUCell(reset_after=True) if eager else KernelGRUCell()
    cell.forward_step(a, h_prev, None, h, None, cache, (zero_w.t(), zero_w, b_hh[0]))
    return a, h


@needs_compiler
@pytest.mark.parametrize("dtype,atol", [(torch.float32, 1e-6), (torch.float64, 1e-15)], ids=["f32", "f64"])
def test_gru_kernels_equal_eager_ops(dtype, atol):
    g = torch.Generator().manual_seed(2)
    n, H = 4, 37
    a = torch.randn(n, 3 * H, dtype=dtype, generator=g) * 3
    hw = (torch.randn(1, 3 * H, dtype=dtype, generator=g) * 2).expand(n, 3 * H).contiguous()
    h_prev = torch.randn(n, H, dtype=dtype, generator=g)
    assert compiled.usable("gru", a, hw, h_prev)
    ours, eager = _gru_forward(a, hw, h_prev, eager=False), _gru_forward(a, hw, h_prev, eager=True)
    for x, y in zip(ours, eager, strict=True):
        torch.testing.assert_close(x, y, rtol=0, atol=atol)
    # backward: one step (T = 1) through local_grads / backward_step / input_grads, both paths
    act = ours[0]
    A, H_all, cache = act.view(1, n, 3 * H), torch.stack([h_prev, ours[1]]), {"hw": hw.view(1, n, 3 * H)}
    d_h = torch.randn(n, H, dtype=dtype, generator=g)
    d_H = torch.stack([torch.zeros_like(d_h), d_h])
    w_hh = torch.randn(3 * H, H, dtype=dtype, generator=g)
    results = []
    for eager in (False, True):
        cell = GRUCell(reset_after=True) if eager else KernelGRUCell()
        d_ah, d_h_prev = torch.empty(1, n, 3 * H, dtype=dtype), d_h.clone()
        local = cell.local_grads(A, H_all, None, cache)
        assert ("act" in local) == (not eager)
        cell.backward_step(d_h, None, d_ah[0], {k: v[0] for k, v in local.items()}, {}, (w_hh,), d_h_prev)
        results.append((d_ah, d_h_prev, cell.input_grads(d_ah, d_H, local)))
    for x, y in zip(*results, strict=True):
        torch.testing.assert_close(x, y, rtol=0, atol=atol * 100)


@needs_compiler
def test_forward_kernel_passes_nan_and_inf_through():
    # The trainer's NaN guard relies on a NaN input coming out as NaN, never as a finite number.
    H = 16
    a = torch.zeros(1, 4 * H)
    a[0, 0] = float("nan")  # i of unit 0
    a[0, 3 * H + 1] = float("inf")  # o of unit 1 -> 1
    a[0, 2 * H + 2] = -float("inf")  # g of unit 2 -> -1
    act, c, _, h = _forward(a, torch.ones(1, H), eager=False)
    assert torch.isnan(act[0, 0]) and torch.isnan(c[0, 0]) and torch.isnan(h[0, 0])
    assert act[0, 3 * H + 1] == 1.0 and act[0, 2 * H + 2] == -1.0
    assert torch.isfinite(h[0, 1:]).all()


@needs_compiler
@pytest.mark.parametrize("dtype,atol", [(torch.float32, 1e-6), (torch.float64, 1e-15)], ids=["f32", "f64"])
def test_backward_kernel_equals_eager_ops(dtype, atol):
    g = torch.Generator().manual_seed(1)
    T, n, H = 1, 4, 19
    act, c, tc, _ = _forward(torch.randn(n, 4 * H, dtype=dtype, generator=g), torch.randn(n, H, dtype=dtype), False)
    c_prev = torch.randn(n, H, dtype=dtype, generator=g)
    C_all = torch.stack([c_prev, c])  # (T+1, n, H)
    A, cache = act.view(T, n, 4 * H), {"tc": tc.view(T, n, H)}
    d_h = torch.randn(n, H, dtype=dtype, generator=g)
    d_c0 = torch.randn(n, H, dtype=dtype, generator=g)
    w_hh = torch.randn(4 * H, H, dtype=dtype, generator=g)
    results = []
    for eager in (False, True):
        cell, d_c = (LSTMCell() if eager else KernelLSTMCell()), d_c0.clone()
        d_a, d_h_prev = torch.empty(n, 4 * H, dtype=dtype), torch.zeros(n, H, dtype=dtype)
        local = cell.local_grads(A, None, C_all, cache)
        assert ("act" in local) == (not eager)  # which path ran
        cell.backward_step(d_h, d_c, d_a, {k: v[0] for k, v in local.items()}, {"tc": tc}, (w_hh,), d_h_prev)
        results.append((d_a, d_c, d_h_prev))
    for ours, eager in zip(*results, strict=True):
        torch.testing.assert_close(ours, eager, rtol=0, atol=atol * 10)


@needs_compiler
@pytest.mark.parametrize("bidirectional", [False, True], ids=["uni", "bi"])
@pytest.mark.parametrize("variant", variant_params(KERNEL_VARIANTS))
def test_layer_with_kernel_equals_layer_without(variant, bidirectional):
    # Training a 2-layer (bi)LSTM / GRU / projection LSTM / layer-norm LSTM / scan cell through the
    # fused backend with variable lengths: outputs, final states and every gradient agree between
    # the compiled and the eager path (float32; the layer norms' gradients reach ~100 here, and their
    # rounding differs by a few 1e-6 of that).
    torch.manual_seed(0)
    T, B, D, H = 7, 5, 6, 33
    layer = Recurrent(RecurrentConfig(input_size=D, hidden_size=H, num_layers=2, bidirectional=bidirectional,
                                      backend="fused", **variant))  # fmt: skip
    with torch.no_grad():
        for name, p in layer.named_parameters():
            if name.startswith("bias"):
                p.uniform_(-0.5, 0.5)  # b_hh matters to the GRU's n gate: make it non-zero
    x = torch.randn(T, B, D)
    lengths = torch.tensor([7, 3, 5, 1, 6])
    runs = []
    for eager in (False, True):
        x_ = x.clone().requires_grad_()
        layer.zero_grad()
        with compiled.disabled() if eager else contextlib.nullcontext():
            Y, state = layer(x_, lengths=lengths)
            finals = list(state) if isinstance(state, tuple) else [state]
            (Y.square().sum() + sum((k + 1) * s.sum() for k, s in enumerate(finals))).backward()
        runs.append([Y, *finals, x_.grad] + [p.grad.clone() for p in layer.parameters()])
    for ours, eager in zip(*runs, strict=True):  # float32: within 1e-5 of each tensor's scale
        torch.testing.assert_close(ours, eager, rtol=1e-5, atol=1e-5 * max(1.0, eager.abs().max().item()))


@needs_compiler
@pytest.mark.parametrize("dtype,atol", [(torch.float32, 2e-6), (torch.float64, 1e-14)], ids=["f32", "f64"])
@pytest.mark.parametrize("bias", [True, False], ids=["bias", "no_bias"])
@pytest.mark.parametrize("B", [1, 3, compiled.STEP_MAX_ROWS])
def test_whole_step_kernel_equals_reference_step(B, bias, dtype, atol):
    g = torch.Generator().manual_seed(B)
    D, H = 21, 35  # vector tails in both dot products
    x = torch.randn(B, D, dtype=dtype, generator=g)
    h_prev, c_prev = torch.randn(B, H, dtype=dtype, generator=g), torch.randn(B, H, dtype=dtype, generator=g)
    w_ih, w_hh = (0.3 * torch.randn(4 * H, n, dtype=dtype, generator=g) for n in (D, H))
    b = torch.randn(4 * H, dtype=dtype, generator=g) if bias else None
    h, c = torch.empty_like(h_prev), torch.empty_like(c_prev)
    compiled.lstm_step(x, w_ih, w_hh, b, h_prev, c_prev, h, c)
    x_proj = x @ w_ih.t() + (0 if b is None else b)  # (B, 4H)
    h_ref, c_ref = LSTMCell().step(x_proj, h_prev, c_prev, (w_ih, w_hh, None, None))
    torch.testing.assert_close(h, h_ref, rtol=0, atol=atol)
    torch.testing.assert_close(c, c_ref, rtol=0, atol=atol)


@needs_compiler
@pytest.mark.parametrize("B", [1, compiled.STEP_MAX_ROWS + 1, 20], ids=["B1", "B9", "B20"])
def test_generation_steps_equal_the_sequence_forward(B):
    # Recurrent.step without autograd: the whole-step kernel (B <= 8) or BLAS + the gate kernel
    # (larger B), against the fused sequence forward and against torch.nn's cell kernels.
    torch.manual_seed(0)
    T, D, H = 6, 10, 40
    layer = Recurrent(RecurrentConfig("lstm", D, H, num_layers=3, backend="auto"))
    x = torch.randn(T, B, D)
    with torch.no_grad():
        Y, (h_n, c_n) = layer(x)
        steps = []
        for eager in (False, True):
            state, outs = None, []
            with compiled.disabled() if eager else contextlib.nullcontext():
                for t in range(T):
                    h_t, state = layer.step(x[t], state)
                    outs.append(h_t)
            steps.append((torch.stack(outs), *state))
    for ours, reference in zip(steps[0], (Y, h_n, c_n), strict=True):
        torch.testing.assert_close(ours, reference, rtol=1e-5, atol=1e-6)
    for ours, native in zip(steps[0], steps[1], strict=True):
        torch.testing.assert_close(ours, native, rtol=1e-5, atol=1e-6)
    with torch.no_grad():
        h_t, (h, c) = layer.step(x[0])
        kept = h.clone()
        h_t.zero_()  # the output is the caller's: editing it leaves the carried state alone
    assert torch.equal(h, kept)


def test_usable_only_for_cpu_contiguous_float_tensors():
    a = torch.zeros(2, 8)
    assert not compiled.usable("lstm", a.t())  # not contiguous
    assert not compiled.usable("lstm", a.half())
    assert not compiled.usable("lstm", a, a.double())  # mixed dtypes
    with compiled.disabled():
        assert not compiled.usable("lstm", a)
        assert compiled.status()["lstm"].startswith("eager")


def test_failed_build_falls_back_to_eager_with_one_warning(monkeypatch, tmp_path):
    monkeypatch.setenv("RNNKIT_CACHE", str(tmp_path))
    monkeypatch.setenv("CXX", "no-such-compiler-rnnkit")
    monkeypatch.setattr(compiled, "_enabled", True)
    monkeypatch.setattr(compiled, "_libraries", {})
    monkeypatch.setattr(compiled, "_reasons", {})
    monkeypatch.setattr(compiled, "_functions", {})
    with pytest.warns(UserWarning, match="compiled lstm kernel unavailable, using eager PyTorch ops"):
        assert not compiled.usable("lstm", torch.zeros(2, 8))
    assert compiled.status()["lstm"].startswith("eager (no C++ compiler found")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # decided once: no second warning, no second build
        assert compiled.library("lstm") is None
        layer = Recurrent(RecurrentConfig("lstm", 3, 4, backend="fused"))
        Y, _ = layer(torch.randn(5, 2, 3))  # runs, on the eager path
    assert Y.shape == (5, 2, 4)
    assert not any(tmp_path.rglob("*.so"))


@needs_compiler
def test_build_is_cached_and_atomic(monkeypatch, tmp_path):
    monkeypatch.setenv("RNNKIT_CACHE", str(tmp_path))
    first = compiled._build("lstm")
    stamp = first.stat().st_mtime_ns
    assert compiled._build("lstm") == first and first.stat().st_mtime_ns == stamp  # reused, not rebuilt
    assert [p.name for p in (tmp_path / "kernels").iterdir()] == [first.name]  # no temp file left


def test_environment_switch_turns_kernels_off():
    code = "from rnnkit.cells import compiled; print(compiled.status()['lstm'])"
    env = {"RNNKIT_KERNELS": "0", "PATH": ""}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True).stdout
    assert out.strip() == "eager (RNNKIT_KERNELS=0)"


@needs_compiler
def test_unwritable_cache_builds_in_the_temporary_directory(monkeypatch, tmp_path):
    blocked = tmp_path / "file"
    blocked.write_text("a file where the cache directory would go")
    monkeypatch.setenv("RNNKIT_CACHE", str(blocked))
    monkeypatch.setattr(compiled.tempfile, "gettempdir", lambda: str(tmp_path / "tmp"))
    built = compiled._build("lstm")
    assert built.parent.parent == tmp_path / "tmp" and built.exists()
