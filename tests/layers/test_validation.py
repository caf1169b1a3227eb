"""Every validation message of the recurrent layer and its configuration ("expected X, got Y")."""

import re
from types import SimpleNamespace

import pytest
import torch
from torch.nn.utils.rnn import pack_padded_sequence

from rnnkit.cells import CELL_TYPES
from rnnkit.layers import Recurrent, RecurrentConfig

from ..variants import VARIANTS
from ._layers import LENGTHS, B, D, H, T, inputs, make


# ----- validation messages -------------------------------------------------------------------
def raises(msg: str):
    """pytest.raises(ValueError) matching exactly ``msg``."""
    return pytest.raises(ValueError, match=f"^{re.escape(msg)}$")


CONFIG_ERRORS = [
    (
        {"cell": "transformer"},
        f"cell: expected one of {CELL_TYPES}, got 'transformer'",
    ),
    ({"hidden_size": 0}, "hidden_size: expected a positive integer, got 0"),
    ({"input_size": True}, "input_size: expected a positive integer, got True"),
    ({"num_layers": 1.5}, "num_layers: expected a positive integer, got 1.5"),
    ({"dropout": 1.5}, "dropout: expected a probability in [0, 1], got 1.5"),
    ({"dropout": -0.1}, "dropout: expected a probability in [0, 1], got -0.1"),
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
