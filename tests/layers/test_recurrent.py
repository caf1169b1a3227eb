"""The recurrent layer: backends agree with each other and with torch.nn, variable lengths,
state carry, the step API, dropout, backend resolution and every validation message."""

import re
from types import SimpleNamespace

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch.nn.utils.rnn import PackedSequence, pack_padded_sequence

from rnnkit.layers import Recurrent, RecurrentConfig, detach_state

from ..variants import NATIVE_VARIANTS, VARIANTS, variant_params

T, B, D, H, L = 5, 3, 3, 4, 2
LENGTHS = [3, 5, 1]  # unsorted on purpose
F64 = torch.float64


def make(variant: dict, backend: str = "autograd", dtype=F64, seed: int = 0, **overrides) -> Recurrent:
    """A small layer (D=3, H=4, two layers unless overridden) with random, non-zero biases."""
    torch.manual_seed(seed)
    kwargs = {"input_size": D, "hidden_size": H, "num_layers": L, "backend": backend, **variant, **overrides}
    layer = Recurrent(RecurrentConfig(**kwargs)).to(dtype)
    with torch.no_grad():
        for name, p in layer.named_parameters():
            if name.startswith("bias"):
                p.uniform_(-0.5, 0.5)
    return layer


def twin(layer: Recurrent, **overrides) -> Recurrent:
    """The same weights under another configuration (e.g. another backend)."""
    other = Recurrent(layer.config, **overrides).to(layer.weight_ih_l0.dtype)
    other.load_state_dict(layer.state_dict())
    return other


def torch_twin(layer: Recurrent) -> torch.nn.RNNBase:
    """The torch.nn module with ``layer``'s configuration, weights copied by load_state_dict."""
    cfg = layer.config
    kwargs = {k: getattr(cfg, k) for k in ("num_layers", "bidirectional", "batch_first", "bias")}
    if cfg.cell == "rnn":
        kwargs["nonlinearity"] = cfg.nonlinearity
    if cfg.proj_size:
        kwargs["proj_size"] = cfg.proj_size
    cls = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU, "rnn": torch.nn.RNN}[cfg.cell]
    module = cls(cfg.input_size, cfg.hidden_size, **kwargs).to(layer.weight_ih_l0.dtype)
    module.load_state_dict(layer.state_dict())
    return module


def inputs(layer, batch: int = B, steps: int = T, dtype=F64, seed: int = 1, batch_first: bool = False):
    """Random x and a random initial state (h, or (h, c) for LSTM) for ``layer``."""
    cfg = layer.config
    g = torch.Generator().manual_seed(seed)
    shape = (batch, steps, cfg.input_size) if batch_first else (steps, batch, cfg.input_size)
    x = torch.randn(*shape, dtype=dtype, generator=g)
    k = cfg.num_layers * (2 if cfg.bidirectional else 1)
    h_size, c_size = layer.cell.state_sizes(cfg.hidden_size)
    h = 0.5 * torch.randn(k, batch, h_size, dtype=dtype, generator=g)
    return x, ((h, 0.5 * torch.randn(k, batch, c_size, dtype=dtype, generator=g)) if c_size else h)


def parts(state) -> list[torch.Tensor]:
    return list(state) if isinstance(state, tuple) else [state]


def run_with_grads(module, x, state, **kwargs):
    """Forward, then the gradient of a fixed random projection of (output, final state) w.r.t.
    x, the initial state and every named parameter. Works for Recurrent and torch.nn alike."""
    x = x.detach().clone().requires_grad_()
    state_in = [s.detach().clone().requires_grad_() for s in parts(state)]
    out, final = module(x, tuple(state_in) if len(state_in) == 2 else state_in[0], **kwargs)
    g = torch.Generator().manual_seed(7)
    outputs = [out, *parts(final)]
    loss = sum((o * torch.randn(o.shape, dtype=o.dtype, generator=g)).sum() for o in outputs)
    names, params = zip(*module.named_parameters())
    grads = torch.autograd.grad(loss, [x, *state_in, *params])
    named = dict(zip(["x"] + [f"state{i}" for i in range(len(state_in))] + list(names), grads))
    return [o.detach() for o in outputs], named


def assert_all_close(got, expected, **tol):
    if isinstance(got, dict):
        assert got.keys() == expected.keys()
        for k in got:
            torch.testing.assert_close(got[k], expected[k], msg=lambda m, k=k: f"{k}: {m}", **tol)
        return
    assert len(got) == len(expected)
    for a, b in zip(got, expected):
        torch.testing.assert_close(a, b, **tol)


TIGHT = {"rtol": 1e-10, "atol": 1e-12}
BIDIRECTIONAL = [pytest.param(False, id="uni"), pytest.param(True, id="bi")]


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


# ----- backend resolution --------------------------------------------------------------------
AUTO_ON_CPU = {  # (training, inference): the measured rule of Recurrent.resolved_backend
    "lstm": ("native", "native"),
    "gru": ("fused", "native"),
    "gru_reset_before": ("fused", "fused"),
    "rnn_tanh": ("fused", "fused"),
    "rnn_relu": ("fused", "fused"),
    "lstm_proj": ("native", "native"),
}


@pytest.mark.parametrize("name", list(VARIANTS))
def test_auto_backend_follows_the_measured_rule_on_cpu(name):
    layer = make(VARIANTS[name], "auto", num_layers=1)
    training, inference = AUTO_ON_CPU[name]
    assert layer.resolved_backend(grad=True) == training
    assert layer.resolved_backend(grad=False) == inference
    with torch.no_grad():
        assert layer.resolved_backend() == inference
    assert layer.resolved_backend() == training  # parameters require grad, autograd records


@pytest.mark.parametrize("name", list(VARIANTS))
def test_auto_backend_is_native_on_gpu_where_torch_has_the_cell(name):
    layer = make(VARIANTS[name], "auto", num_layers=1)
    expected = "fused" if name == "gru_reset_before" else "native"
    assert layer.resolved_backend(device=torch.device("cuda"), grad=True) == expected


@pytest.mark.parametrize("backend", ["fused", "autograd", "native"])
def test_explicit_backend_is_kept(backend):
    assert make(VARIANTS["lstm"], backend).resolved_backend() == backend


# ----- validation messages -------------------------------------------------------------------
def raises(msg: str):
    """pytest.raises(ValueError) matching exactly ``msg``."""
    return pytest.raises(ValueError, match=f"^{re.escape(msg)}$")


CONFIG_ERRORS = [
    ({"cell": "transformer"}, "cell: expected one of ('rnn', 'lstm', 'gru'), got 'transformer'"),
    ({"hidden_size": 0}, "hidden_size: expected a positive integer, got 0"),
    ({"input_size": True}, "input_size: expected a positive integer, got True"),
    ({"num_layers": 1.5}, "num_layers: expected a positive integer, got 1.5"),
    ({"dropout": 1.0}, "dropout: expected a probability in [0, 1), got 1.0"),
    ({"dropout": -0.1}, "dropout: expected a probability in [0, 1), got -0.1"),
    ({"backend": "cudnn"}, "backend: expected one of ('auto', 'fused', 'autograd', 'native'), got 'cudnn'"),
    ({"cell": "rnn", "nonlinearity": "gelu"}, "nonlinearity: expected one of ('tanh', 'relu'), got 'gelu'"),
    (
        {"cell": "gru", "reset_after": False, "backend": "native"},
        "backend: expected 'auto', 'fused' or 'autograd' for a GRU with reset_after=False (torch.nn has no such "
        "GRU), got 'native'",
    ),
]


@pytest.mark.parametrize(
    ("overrides", "msg"), CONFIG_ERRORS, ids=[f"{m.split(':')[0]}-{i}" for i, (_, m) in enumerate(CONFIG_ERRORS)]
)
def test_bad_config_values_are_rejected_with_expected_got(overrides, msg):
    with raises(msg):
        RecurrentConfig(**{"input_size": D, "hidden_size": H, **overrides})


def test_bad_recurrent_init_is_rejected():
    with raises("recurrent_init: expected 'orthogonal' or 'uniform', got 'xavier'"):
        Recurrent(RecurrentConfig("lstm", D, H, recurrent_init="xavier"))


@pytest.fixture(scope="module")
def env():
    """float32 layers (L=2, D=3, H=4); x (T=5, B=3, D=3); h and c (2, 3, 4); lengths (3,)."""
    lstm = make(VARIANTS["lstm"], dtype=torch.float32)
    x, (h, c) = inputs(lstm, dtype=torch.float32)
    return SimpleNamespace(
        lstm=lstm,
        gru=make(VARIANTS["gru"], dtype=torch.float32),
        rnn_bf=make(VARIANTS["rnn_tanh"], dtype=torch.float32, batch_first=True),
        x=x,
        h=h,
        c=c,
        lens=torch.tensor(LENGTHS),
    )


def _packed_with_lengths(e):
    return e.lstm(pack_padded_sequence(e.x, e.lens, enforce_sorted=False), lengths=e.lens)


INPUT_ERRORS = [
    ("rank", lambda e: e.lstm(e.x[0]), "input: expected a 3-D tensor (T, B, D), got shape (3, 3)"),
    ("rank_batch_first", lambda e: e.rnn_bf(e.x[0]), "input: expected a 3-D tensor (B, T, D), got shape (3, 3)"),
    ("not_a_tensor", lambda e: e.lstm(e.x.tolist()), "input: expected a tensor (T, B, D), got list"),
    ("feature_size", lambda e: e.lstm(torch.zeros(T, B, D + 1)), "input: expected feature size D=3, got 4"),
    (
        "input_dtype",
        lambda e: e.lstm(e.x.double()),
        "input: expected dtype torch.float32 (the weights'), got torch.float64",
    ),
    ("state_shape", lambda e: e.gru(e.x, e.h[:1]), "state: expected shape (2, 3, 4) (L*dirs, B, H), got (1, 3, 4)"),
    (
        "lstm_h_shape",
        lambda e: e.lstm(e.x, (e.h[:, :2], e.c)),
        "state h: expected shape (2, 3, 4) (L*dirs, B, H), got (2, 2, 4)",
    ),
    (
        "lstm_c_shape",
        lambda e: e.lstm(e.x, (e.h, e.c[:1])),
        "state c: expected shape (2, 3, 4) (L*dirs, B, H), got (1, 3, 4)",
    ),
    (
        "lstm_state_not_tuple",
        lambda e: e.lstm(e.x, e.h),
        "state: expected a tuple (h, c) for an LSTM, got a tensor of shape (2, 3, 4)",
    ),
    (
        "lstm_state_triple",
        lambda e: e.lstm(e.x, (e.h, e.c, e.c)),
        "state: expected a tuple (h, c) for an LSTM, got a tuple of 3",
    ),
    (
        "gru_state_tuple",
        lambda e: e.gru(e.x, (e.h, e.c)),
        "state: expected a tensor h of shape (2, 3, 4), got a tuple of 2",
    ),
    (
        "state_dtype",
        lambda e: e.gru(e.x, e.h.double()),
        "state: expected dtype torch.float32 (the input's), got torch.float64",
    ),
    (
        "lstm_state_dtype",
        lambda e: e.lstm(e.x, (e.h, e.c.double())),
        "state c: expected dtype torch.float32 (the input's), got torch.float64",
    ),
    (
        "lengths_count",
        lambda e: e.lstm(e.x, lengths=e.lens[:2]),
        "lengths: expected one length per sequence (B=3), got 2",
    ),
    (
        "lengths_zero",
        lambda e: e.lstm(e.x, lengths=[0, 2, 5]),
        "lengths: expected values in [1, T=5], got min 0, max 5",
    ),
    (
        "lengths_too_long",
        lambda e: e.lstm(e.x, lengths=[6, 2, 5]),
        "lengths: expected values in [1, T=5], got min 2, max 6",
    ),
    (
        "lengths_float",
        lambda e: e.lstm(e.x, lengths=[3.0, 5.0, 1.0]),
        "lengths: expected integer lengths, got dtype torch.float32",
    ),
    (
        "lengths_rank",
        lambda e: e.lstm(e.x, lengths=e.lens[:, None]),
        "lengths: expected a 1-D tensor of B=3 sequence lengths, got shape (3, 1)",
    ),
    (
        "lengths_with_packed",
        _packed_with_lengths,
        "lengths: expected None with a PackedSequence input (it carries its own), got a lengths argument",
    ),
    ("step_rank", lambda e: e.lstm.step(e.x), "input: expected a 2-D tensor (B, D), got shape (5, 3, 3)"),
    (
        "step_state_shape",
        lambda e: e.gru.step(e.x[0], e.h[:, :2]),
        "state: expected shape (2, 3, 4) (L*dirs, B, H), got (2, 2, 4)",
    ),
]


@pytest.mark.parametrize(("call", "msg"), [pytest.param(c, m, id=i) for i, c, m in INPUT_ERRORS])
def test_bad_inputs_are_rejected_with_expected_got(env, call, msg):
    with raises(msg):
        call(env)
