"""rnnkit.nn's classes are torch.nn's: constructor, checks, attributes, names, repr, initialisation."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from rnnkit import nn as rnn
from rnnkit.layers import Stack

from ._dropin import CELLS, LAYERS

ATTRIBUTES = ("mode", "input_size", "hidden_size", "num_layers", "bias", "batch_first", "dropout", "bidirectional",
              "proj_size", "_flat_weights_names", "_all_weights")  # fmt: skip
CONSTRUCTIONS = [
    ("RNN", (2, 3, 1, "relu"), {}),  # nonlinearity as the fourth positional argument
    ("RNN", (10, 20), {"nonlinearity": "relu", "bias": False, "batch_first": True}),
    ("LSTM", (10, 20, 2), {"dropout": 0.5, "bidirectional": True}),
    ("LSTM", (10, 20, 2, True, True, 0.25, True, 5), {}),  # every option positionally, proj_size last
    ("LSTM", (3, 5), {"num_layers": 3, "proj_size": 2, "bias": False}),
    ("GRU", (4, 6, 2), {"batch_first": True, "dropout": 1.0}),  # dropout 1 allowed, as torch
    ("GRU", (4, 6), {"bidirectional": True}),
]


@pytest.mark.parametrize("name, args, kwargs", CONSTRUCTIONS)
def test_constructor_attributes_names_and_repr_are_torchs(name, args, kwargs):
    torch.manual_seed(0)
    ours = getattr(rnn, name)(*args, **kwargs)
    torch.manual_seed(0)
    theirs = getattr(nn, name)(*args, **kwargs)
    assert isinstance(ours, getattr(nn, name)) and isinstance(ours, nn.RNNBase) and isinstance(ours, Stack)
    for attribute in ATTRIBUTES:
        assert getattr(ours, attribute) == getattr(theirs, attribute), attribute
    if name == "RNN":
        assert ours.nonlinearity == theirs.nonlinearity
    assert repr(ours) == repr(theirs).replace(type(theirs).__name__, type(ours).__name__)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    # the same draws from the same generator: a swapped import trains the same
    for (n, p), q in zip(ours.named_parameters(), theirs.parameters()):
        assert torch.equal(p, q), n
    assert [[w.shape for w in ws] for ws in ours.all_weights] == [[w.shape for w in ws] for ws in theirs.all_weights]
    assert all(a is b for a, b in zip(ours._flat_weights, ours.parameters()))
    ours.flatten_parameters()  # a no-op off cuDNN, as torch's


@pytest.mark.parametrize("name", CELLS)
def test_cells_are_torchs_cells(name):
    kwargs = {"nonlinearity": "relu"} if name == "RNNCell" else {}
    torch.manual_seed(0)
    ours = getattr(rnn, name)(5, 7, bias=False, **kwargs)
    torch.manual_seed(0)
    theirs = getattr(nn, name)(5, 7, bias=False, **kwargs)
    assert isinstance(ours, getattr(nn, name)) and isinstance(ours, nn.RNNCellBase)
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert all(torch.equal(p, q) for p, q in zip(ours.parameters(), theirs.parameters()))


BAD_CONSTRUCTIONS = [
    ("LSTM", (10, 0, 1), {}),  # hidden_size 0
    ("GRU", (10, 10, 0), {}),  # no layers
    ("RNN", (0, 10), {}),
    ("LSTM", (3, 4), {"bias": 0}),
    ("GRU", (3, 4), {"batch_first": "False"}),
    ("LSTM", (3.0, 4), {}),
    ("LSTM", (3, "4"), {}),
    ("RNN", (3, 4), {"dropout": 1.5}),
    ("RNN", (3, 4), {"dropout": True}),
    ("RNN", (3, 4), {"nonlinearity": "sigmoid"}),
    ("GRU", (3, 4), {"proj_size": 2}),
    ("LSTM", (3, 4), {"proj_size": 4}),
    ("LSTM", (3, 4), {"proj_size": -1}),
]


@pytest.mark.parametrize("name, args, kwargs", BAD_CONSTRUCTIONS)
def test_bad_arguments_are_refused_as_torch_refuses_them(name, args, kwargs):
    with pytest.raises(Exception) as theirs:
        getattr(nn, name)(*args, **kwargs)
    with pytest.raises(type(theirs.value)) as ours:
        getattr(rnn, name)(*args, **kwargs)
    assert str(ours.value) == str(theirs.value)


def test_dropout_with_one_layer_warns_as_torch():
    with pytest.warns(UserWarning, match="non-zero dropout expects num_layers greater than 1"):
        rnn.GRU(3, 4, dropout=0.5)


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: rnn.LSTM(3, 4, backend="cudnn"),
         "backend: expected one of ('auto', 'fused', 'autograd', 'native'), got 'cudnn'"),
        (lambda: rnn.GRU(3, 4, reset_after=False, backend="native"),
         "backend: expected 'auto', 'fused' or 'autograd' for a GRU with reset_after=False (torch.nn has no such "
         "GRU), got 'native'"),
        (lambda: rnn.LSTM(3, 4, forget_bias=float("nan")), "forget_bias: expected None or a finite number, got nan"),
        (lambda: rnn.RNN(3, 4, recurrent_init="xavier"),
         "recurrent_init: expected None or one of ('orthogonal', 'uniform'), got 'xavier'"),
        (lambda: rnn.GRUCell(3, 4, backend="gpu"),
         "backend: expected one of ('auto', 'fused', 'autograd', 'native'), got 'gpu'"),
    ],
)  # fmt: skip
def test_rnnkit_options_are_checked(make, message):
    with pytest.raises(ValueError) as e:
        make()
    assert str(e.value) == message


@pytest.mark.parametrize("name", LAYERS + CELLS)
def test_rnnkit_options_are_keyword_only_and_shown_when_set(name):
    module = getattr(rnn, name)(3, 4, backend="autograd", recurrent_init="orthogonal")
    assert repr(module).endswith(", backend='autograd', recurrent_init='orthogonal')")
    with pytest.raises(TypeError):
        getattr(rnn, name)(3, 4, backend="auto", bogus=1)


@pytest.mark.parametrize("name", ("LSTM", "LSTMCell"))
def test_rnnkit_initialisation_is_one_keyword_away(name):
    torch.manual_seed(0)
    module = getattr(rnn, name)(6, 5, forget_bias=1.0)
    suffix = "_l0" if name == "LSTM" else ""
    b_ih, b_hh = getattr(module, f"bias_ih{suffix}"), getattr(module, f"bias_hh{suffix}")
    H = 5
    assert torch.equal(b_ih[H : 2 * H], torch.ones(H)) and torch.equal(b_hh, torch.zeros(4 * H))
    w_hh = getattr(module, f"weight_hh{suffix}").detach()
    for block in w_hh.view(4, H, H):  # every gate block orthogonal
        torch.testing.assert_close(block @ block.T, torch.eye(H), atol=1e-5, rtol=0)
    # recurrent_init alone: rnnkit's scheme with its default forget bias
    other = getattr(rnn, name)(6, 5, recurrent_init="uniform")
    assert torch.equal(getattr(other, f"bias_ih{suffix}")[H : 2 * H], torch.ones(H))
    assert getattr(other, f"weight_hh{suffix}").abs().max() <= 1 / H**0.5


def test_rnnkit_initialisation_matches_rnnkit_layers():
    from rnnkit.layers import LSTM as RnnkitLSTM

    torch.manual_seed(3)
    ours = rnn.LSTM(4, 6, 2, forget_bias=1.0)
    torch.manual_seed(3)
    layer = RnnkitLSTM(4, 6, num_layers=2)
    for (n, p), (m, q) in zip(ours.named_parameters(), layer.named_parameters()):
        assert n == m and torch.equal(p, q), n


@pytest.mark.parametrize("name", LAYERS + CELLS)
def test_factory_keywords_and_meta_device(name):
    module = getattr(rnn, name)(3, 4, dtype=torch.float64)
    assert {p.dtype for p in module.parameters()} == {torch.float64}
    meta = getattr(rnn, name)(3, 4, device="meta")
    assert {p.device.type for p in meta.parameters()} == {"meta"}
    with torch.device("meta"):
        inside = getattr(rnn, name)(3, 4)
    assert {p.device.type for p in inside.parameters()} == {"meta"}
    empty = meta.to_empty(device="cpu")
    assert {p.device.type for p in empty.parameters()} == {"cpu"}


def test_quantize_dynamic_through_the_torch_class():
    """quantize_dynamic matches modules by exact type: it leaves a drop-in alone, and converts the
    torch.nn module that ``rnnkit.nn.to_torch`` gives, with the same weights."""
    model = nn.Sequential(rnn.LSTM(3, 4))
    q = torch.ao.quantization.quantize_dynamic(rnn.to_torch(model), {nn.LSTM}, dtype=torch.qint8)
    assert type(q[0]).__name__ == "LSTM" and type(q[0]).__module__.startswith("torch.ao.nn.quantized")
    x = torch.randn(5, 2, 3)
    torch.testing.assert_close(q(x)[0], model(x)[0], atol=0.05, rtol=0)
