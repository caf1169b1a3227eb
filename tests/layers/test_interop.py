"""Exact weight conversion between rnnkit's Recurrent and torch.nn.RNN / LSTM / GRU."""

import dataclasses
import re

import pytest
import torch
from torch import nn

from rnnkit.layers import Recurrent, RecurrentConfig, from_torch, to_torch

D, H, T, B = 3, 4, 5, 2

MODULES = {
    "lstm_2l_bi": lambda: nn.LSTM(D, H, num_layers=2, bidirectional=True),
    "gru_2l_bi": lambda: nn.GRU(D, H, num_layers=2, bidirectional=True),
    "rnn_relu_2l_bi": lambda: nn.RNN(D, H, num_layers=2, bidirectional=True, nonlinearity="relu"),
    "rnn_tanh_batch_first": lambda: nn.RNN(D, H, batch_first=True),
    "lstm_no_bias_dropout": lambda: nn.LSTM(D, H, num_layers=2, bias=False, dropout=0.25),
    "gru_float64": lambda: nn.GRU(D, H, num_layers=2, dtype=torch.float64),
    "lstm_proj_2l_bi": lambda: nn.LSTM(D, H, num_layers=2, bidirectional=True, proj_size=2),
    "lstm_proj_no_bias_batch_first": lambda: nn.LSTM(D, H, bias=False, batch_first=True, proj_size=3),
}


def _module(name):
    torch.manual_seed(0)
    return MODULES[name]()


def _inputs(module, seed=1):
    g = torch.Generator().manual_seed(seed)
    p = next(module.parameters())
    x = torch.randn(B, T, D, generator=g, dtype=p.dtype)
    return x if module.batch_first else x.transpose(0, 1)


def _assert_same_state_dict(a, b):
    sa, sb = a.state_dict(), b.state_dict()
    assert list(sa) == list(sb)
    for k in sa:
        assert sa[k].dtype == sb[k].dtype and torch.equal(sa[k], sb[k]), k


@pytest.mark.parametrize("name", list(MODULES))
def test_from_torch_copies_config_and_weights_exactly(name):
    module = _module(name)
    layer = from_torch(module)
    cfg = layer.config
    shared = ("input_size", "hidden_size", "num_layers", "bias", "batch_first", "bidirectional", "dropout")
    for field in shared:
        assert getattr(cfg, field) == getattr(module, field), field
    assert cfg.cell == type(module).__name__.lower()
    if isinstance(module, nn.RNN):
        assert cfg.nonlinearity == module.nonlinearity
    if isinstance(module, nn.LSTM):
        assert cfg.proj_size == module.proj_size
    _assert_same_state_dict(layer, module)


@pytest.mark.parametrize("name", list(MODULES))
def test_from_torch_gives_identical_outputs(name):
    module = _module(name).eval()
    layer = from_torch(module, backend="native").eval()  # torch's own kernel, so bit-for-bit
    x = _inputs(module)
    out, state = layer(x)
    out_nn, state_nn = module(x)
    assert torch.equal(out, out_nn)
    for s, s_nn in zip(
        state if isinstance(state, tuple) else (state,), state_nn if isinstance(state_nn, tuple) else (state_nn,)
    ):
        assert torch.equal(s, s_nn)
    # and our own BPTT agrees to rounding
    fused_out, _ = from_torch(module, backend="fused").eval()(x)
    torch.testing.assert_close(fused_out, out_nn, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(
    ("cell", "extra"),
    [
        ("lstm", {}),
        ("gru", {}),
        ("rnn", {"nonlinearity": "relu"}),
        ("rnn", {"bias": False, "batch_first": True}),
        ("lstm", {"proj_size": 2}),
    ],
    ids=["lstm", "gru", "rnn_relu", "rnn_no_bias_batch_first", "lstm_proj"],
)
def test_to_torch_round_trip_is_exact(cell, extra):
    torch.manual_seed(0)
    layer = Recurrent(RecurrentConfig(cell, D, H, num_layers=2, bidirectional=True, **extra)).eval()
    module = to_torch(layer)
    assert type(module) is {"lstm": nn.LSTM, "gru": nn.GRU, "rnn": nn.RNN}[cell]
    assert (module.num_layers, module.bidirectional, module.batch_first, module.bias) == (
        2,
        True,
        layer.config.batch_first,
        layer.config.bias,
    )
    assert getattr(module, "proj_size", 0) == layer.config.proj_size
    _assert_same_state_dict(module, layer)
    back = from_torch(module)
    _assert_same_state_dict(back, layer)
    assert back.config == layer.config
    x = _inputs(module)
    native = Recurrent(dataclasses.replace(layer.config, backend="native")).eval()
    native.load_state_dict(layer.state_dict())
    assert torch.equal(module(x)[0], native(x)[0])  # the same kernel: bit for bit
    torch.testing.assert_close(layer(x)[0], module(x)[0], rtol=1e-5, atol=1e-6)  # auto: maybe ours


def test_to_torch_keeps_dtype():
    layer = Recurrent(RecurrentConfig("gru", D, H)).double()
    assert next(to_torch(layer).parameters()).dtype == torch.float64


def test_to_torch_rejects_reset_before_gru():
    layer = Recurrent(RecurrentConfig("gru", D, H, reset_after=False))
    msg = (
        "to_torch: expected a cell torch.nn implements, got a GRU with reset_after=False "
        "(torch.nn's GRU applies the reset gate after the recurrent matmul)"
    )
    with pytest.raises(ValueError, match=f"^{re.escape(msg)}$"):
        to_torch(layer)


def test_from_torch_takes_an_lstm_with_projection():
    # Once rejected ("expected an LSTM without projection"); now the registered projection LSTM.
    layer = from_torch(nn.LSTM(D, H, proj_size=2))
    assert (layer.config.cell, layer.config.proj_size, layer.output_size) == ("lstm", 2, 2)
    assert layer.weight_hr_l0.shape == (2, H)


def test_from_torch_rejects_other_modules():
    msg = "from_torch: expected a torch.nn.RNN, LSTM or GRU, got Linear"
    with pytest.raises(ValueError, match=f"^{re.escape(msg)}$"):
        from_torch(nn.Linear(D, H))
