"""The recurrent layer: backends agree with each other and with torch.nn, variable lengths,
state carry, the step API and dropout (backend resolution: test_backend.py; validation messages:
test_validation.py)."""

import re

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch.nn.utils.rnn import PackedSequence, pack_padded_sequence, pad_packed_sequence

from rnnkit.layers import detach_state

from ..variants import NATIVE_VARIANTS, VARIANTS, variant_params
from ._layers import (
    BIDIRECTIONAL,
    LENGTHS,
    TIGHT,
    B,
    T,
    assert_all_close,
    inputs,
    make,
    parts,
    run_with_grads,
    torch_twin,
    twin,
)


# ----- the fused backend against the autograd reference --------------------------------------
@pytest.mark.parametrize("lengths", [None, LENGTHS], ids=["full", "lengths"])
@pytest.mark.parametrize("bidirectional", BIDIRECTIONAL)
@pytest.mark.parametrize("variant", variant_params())
def test_fused_equals_autograd(variant, bidirectional, lengths):
    reference = make(variant, "autograd", bidirectional=bidirectional)
    fused = twin(reference, backend="fused")
    x, state = inputs(reference)
    out_f, grads_f = run_with_grads(fused, x, state, lengths=lengths)
    out_r, grads_r = run_with_grads(reference, x, state, lengths=lengths)
    assert_all_close(out_f, out_r, **TIGHT)
    assert_all_close(grads_f, grads_r, **TIGHT)


@pytest.mark.parametrize("variant", variant_params())
def test_fused_equals_autograd_without_bias(variant):
    reference = make(variant, "autograd", bias=False)
    assert not any(name.startswith("bias") for name, _ in reference.named_parameters())
    x, state = inputs(reference)
    out_f, grads_f = run_with_grads(twin(reference, backend="fused"), x, state, lengths=LENGTHS)
    out_r, grads_r = run_with_grads(reference, x, state, lengths=LENGTHS)
    assert_all_close(out_f, out_r, **TIGHT)
    assert_all_close(grads_f, grads_r, **TIGHT)


# ----- every backend against torch.nn --------------------------------------------------------
@pytest.mark.parametrize("batch_first", [False, True], ids=["time_major", "batch_first"])
@pytest.mark.parametrize("bidirectional", BIDIRECTIONAL)
@pytest.mark.parametrize("backend", ["fused", "autograd", "native"])
@pytest.mark.parametrize("variant", variant_params(NATIVE_VARIANTS))
def test_matches_torch_nn_after_weight_copy(variant, backend, bidirectional, batch_first):
    layer = make(variant, backend, dtype=torch.float32, bidirectional=bidirectional, batch_first=batch_first)
    module = torch_twin(layer)
    x, state = inputs(layer, dtype=torch.float32, batch_first=batch_first)
    out, grads = run_with_grads(layer, x, state)
    out_nn, grads_nn = run_with_grads(module, x, state)
    assert out[0].shape == ((B, T, layer.output_size) if batch_first else (T, B, layer.output_size))
    assert_all_close(out, out_nn, rtol=0, atol=1e-5)
    assert_all_close(grads, grads_nn, rtol=1e-4, atol=1e-5)


# ----- variable lengths ----------------------------------------------------------------------
def backend_params():
    """(variant, backend) pairs: every backend each variant supports."""
    return [
        pytest.param(kw, backend, id=f"{name}-{backend}")
        for name, kw in VARIANTS.items()
        for backend in ("fused", "autograd", "native")
        if name in NATIVE_VARIANTS or backend != "native"
    ]


def assert_padded_equals_alone(layer, x, state, lengths):
    """Row b of the padded run == sequence b run alone; zero outputs past its length."""
    out, final = layer(x, state, lengths=torch.tensor(lengths))
    for b, n in enumerate(lengths):
        alone_state = tuple(s[:, b : b + 1] for s in parts(state))
        out_b, final_b = layer(x[:n, b : b + 1], alone_state if len(alone_state) == 2 else alone_state[0])
        torch.testing.assert_close(out[:n, b : b + 1], out_b, **TIGHT)
        assert torch.all(out[n:, b] == 0)
        for s, s_b in zip(parts(final), parts(final_b)):
            torch.testing.assert_close(s[:, b : b + 1], s_b, **TIGHT)


@pytest.mark.parametrize("bidirectional", BIDIRECTIONAL)
@pytest.mark.parametrize(("variant", "backend"), backend_params())
def test_padded_batch_in_any_order_equals_each_sequence_alone(variant, backend, bidirectional):
    layer = make(variant, backend, bidirectional=bidirectional)
    x, state = inputs(layer)
    assert_padded_equals_alone(layer, x, state, LENGTHS)


@pytest.mark.parametrize(("variant", "backend"), backend_params())
def test_padding_content_never_leaks_in(variant, backend):
    # Regression: the autograd backend masked only the state, so NaN padding came out as NaN
    # outputs past the end and NaN weight gradients.
    layer = make(variant, backend, bidirectional=True)
    x, state = inputs(layer)
    padding = (torch.arange(T)[:, None] >= torch.tensor(LENGTHS)[None, :]).unsqueeze(-1)  # (T, B, 1)
    clean = x.masked_fill(padding, 0.0)
    dirty = x.masked_fill(padding, float("nan"))
    dirty[-1, -1, 0] = float("inf")
    out, grads = run_with_grads(layer, clean, state, lengths=LENGTHS)
    out_dirty, grads_dirty = run_with_grads(layer, dirty, state, lengths=LENGTHS)
    assert_all_close(out_dirty, out, rtol=0, atol=0)
    assert_all_close(grads_dirty, grads, rtol=0, atol=0)
    assert torch.all(grads_dirty["x"].masked_select(padding) == 0)


@settings(max_examples=15, deadline=None)
@given(data=st.data(), variant=st.sampled_from(list(VARIANTS)), bidirectional=st.booleans())
def test_property_fused_padded_equals_per_sequence(data, variant, bidirectional):
    steps = data.draw(st.integers(1, 6), label="T")
    lengths = data.draw(st.lists(st.integers(1, steps), min_size=1, max_size=4), label="lengths")
    layer = make(VARIANTS[variant], "fused", bidirectional=bidirectional)
    x, state = inputs(layer, batch=len(lengths), steps=steps)
    assert_padded_equals_alone(layer, x, state, lengths)


def _same_indices(a, b):
    return (a is None and b is None) or torch.equal(a, b)


@pytest.mark.parametrize("enforce_sorted", [False, True], ids=["unsorted", "sorted"])
@pytest.mark.parametrize("backend", ["fused", "autograd", "native"])
@pytest.mark.parametrize("variant", variant_params(NATIVE_VARIANTS))
def test_packed_sequence_in_gives_torch_nn_packed_sequence_out(variant, backend, enforce_sorted):
    layer = make(variant, backend, dtype=torch.float32, bidirectional=True)
    module = torch_twin(layer)
    x, state = inputs(layer, dtype=torch.float32)
    lengths = sorted(LENGTHS, reverse=True) if enforce_sorted else LENGTHS
    packed = pack_padded_sequence(x, torch.tensor(lengths), enforce_sorted=enforce_sorted)
    out, final = layer(packed, state)
    out_nn, final_nn = module(packed, state)
    assert isinstance(out, PackedSequence)
    torch.testing.assert_close(out.data, out_nn.data, rtol=0, atol=1e-5)
    assert torch.equal(out.batch_sizes, out_nn.batch_sizes)
    assert _same_indices(out.sorted_indices, out_nn.sorted_indices)
    assert _same_indices(out.unsorted_indices, out_nn.unsorted_indices)
    assert_all_close(parts(final), parts(final_nn), rtol=0, atol=1e-5)


class PackedTorch(torch.nn.Module):
    """A torch.nn module called as ``layer(x, state, lengths=...)``: through a PackedSequence."""

    def __init__(self, module):
        super().__init__()
        self.module = module

    def forward(self, x, state, lengths):
        packed = pack_padded_sequence(x, torch.as_tensor(lengths), enforce_sorted=False)
        out, final = self.module(packed, state)
        return pad_packed_sequence(out, total_length=x.shape[0])[0], final


@pytest.mark.parametrize("backend", ["fused", "autograd", "native"])
@pytest.mark.parametrize("variant", variant_params(NATIVE_VARIANTS))
def test_variable_lengths_match_torch_nn_with_every_gradient(variant, backend):
    layer = make(variant, backend, dtype=torch.float32, bidirectional=True)
    x, state = inputs(layer, dtype=torch.float32)
    out, grads = run_with_grads(layer, x, state, lengths=LENGTHS)
    out_nn, grads_nn = run_with_grads(PackedTorch(torch_twin(layer)), x, state, lengths=LENGTHS)
    assert_all_close(out, out_nn, rtol=0, atol=1e-5)
    assert_all_close(list(grads.values()), list(grads_nn.values()), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("batch_first", [False, True], ids=["time_major", "batch_first"])
@pytest.mark.parametrize("backend", ["fused", "autograd"])
def test_packed_sequence_equals_padded_with_lengths_for_reset_before_gru(backend, batch_first):
    # torch.nn has no reset-before GRU to compare with: the padded path is the reference here
    layer = make(VARIANTS["gru_reset_before"], backend, bidirectional=True, batch_first=batch_first)
    x, state = inputs(layer, batch_first=batch_first)
    packed = pack_padded_sequence(x, torch.tensor(LENGTHS), batch_first=batch_first, enforce_sorted=False)
    out, final = layer(packed, state)
    padded_out, padded_final = layer(x, state, lengths=LENGTHS)
    expected = pack_padded_sequence(padded_out, torch.tensor(LENGTHS), batch_first=batch_first, enforce_sorted=False)
    torch.testing.assert_close(out.data, expected.data, **TIGHT)
    torch.testing.assert_close(final, padded_final, **TIGHT)


# ----- hidden state: zero default, chunked == whole, detach ----------------------------------
@pytest.mark.parametrize(("variant", "backend"), backend_params())
def test_chunked_equals_whole(variant, backend):
    layer = make(variant, backend)
    x, state = inputs(layer, steps=6)
    out, final = layer(x, state)
    outs, carried = [], state
    for start, stop in ((0, 2), (2, 5), (5, 6)):
        chunk_out, carried = layer(x[start:stop], carried)
        outs.append(chunk_out)
    torch.testing.assert_close(torch.cat(outs), out, **TIGHT)
    assert_all_close(parts(carried), parts(final), **TIGHT)


@pytest.mark.parametrize("variant", variant_params())
def test_no_state_means_zero_state(variant):
    layer = make(variant)
    x, state = inputs(layer)
    zeros = tuple(torch.zeros_like(s) for s in parts(state))
    out, final = layer(x)
    out_0, final_0 = layer(x, zeros if len(zeros) == 2 else zeros[0])
    assert torch.equal(out, out_0)
    assert_all_close(parts(final), parts(final_0), rtol=0, atol=0)


def test_detach_state_keeps_values_and_cuts_history():
    layer = make(VARIANTS["lstm"])
    x, _ = inputs(layer, steps=6)
    x.requires_grad_()
    _, state = layer(x[:3])
    assert all(s.requires_grad for s in state)
    detached = detach_state(state)
    assert isinstance(detached, tuple) and len(detached) == 2
    for new, old in zip(detached, state):
        assert not new.requires_grad and new.grad_fn is None
        assert torch.equal(new, old)
    # truncated BPTT: the next chunk's loss reaches the weights, not the previous chunk's input
    out, _ = layer(x[3:], detached)
    grad_x, grad_w = torch.autograd.grad(out.sum(), [x, layer.weight_hh_l0])
    assert torch.all(grad_x[:3] == 0) and grad_x[3:].abs().sum() > 0
    assert grad_w.abs().sum() > 0

    _, h = make(VARIANTS["gru"])(x)
    assert isinstance(detach_state(h), torch.Tensor) and torch.equal(detach_state(h), h)
    assert not detach_state(h).requires_grad
    assert detach_state(None) is None
    assert isinstance(detach_state(list(state)), list)
    msg = "detach_state: expected a tensor, a tuple of tensors or None, got int"
    with pytest.raises(TypeError, match=f"^{re.escape(msg)}$"):
        detach_state(3)


# ----- single-step API -----------------------------------------------------------------------
@pytest.mark.parametrize("grad", [True, False], ids=["grad", "no_grad"])  # no_grad: LSTM runs its kernel
@pytest.mark.parametrize("variant", variant_params())
def test_step_by_step_equals_sequence_forward(variant, grad):
    layer = make(variant, "auto")
    x, state = inputs(layer)
    out, final = layer(x, state)
    carried = state
    with torch.set_grad_enabled(grad):
        for t in range(T):
            h_t, carried = layer.step(x[t], carried)
            torch.testing.assert_close(h_t, out[t], **TIGHT)
    assert_all_close(parts(carried), parts(final), **TIGHT)


def test_step_on_a_bidirectional_layer_raises():
    layer = make(VARIANTS["gru"], bidirectional=True)
    x, _ = inputs(layer)
    msg = (
        "step: expected a unidirectional layer (a backward direction needs the whole sequence), got bidirectional=True"
    )
    with pytest.raises(ValueError, match=f"^{re.escape(msg)}$"):
        layer.step(x[0])


# ----- dropout between layers ----------------------------------------------------------------
@pytest.mark.parametrize("backend", ["fused", "autograd", "native"])
def test_dropout_only_in_training(backend):
    layer = make(VARIANTS["lstm"], backend, dropout=0.5)
    no_dropout = twin(layer, dropout=0.0)
    x, state = inputs(layer)
    layer.eval()
    torch.testing.assert_close(layer(x, state)[0], no_dropout(x, state)[0], rtol=0, atol=0)
    layer.train()
    torch.manual_seed(0)
    first = layer(x, state)[0]
    second = layer(x, state)[0]
    assert not torch.allclose(first, second)
    assert not torch.allclose(first, no_dropout(x, state)[0])
