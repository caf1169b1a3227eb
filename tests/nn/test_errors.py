"""Bad input to rnnkit.nn raises torch.nn's exception type, with rnnkit's "expected X, got Y" message."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from rnnkit import nn as rnn

from ._dropin import BACKENDS

F32, F64 = torch.float32, torch.float64


def rand(*shape, dtype=F32):
    return torch.randn(*shape, dtype=dtype)


# (module name, constructor args, constructor kwargs, forward args, rnnkit's message); torch.nn
# raises the same type for each (checked below, on torch.nn itself).
LAYER_ERRORS = [
    ("LSTM", (3, 5), {}, (rand(2, 4, 2, 3),),
     "input: expected a 2-D or 3-D tensor (T, B, D), or (T, D) unbatched, got 4-D shape (2, 4, 2, 3)"),
    ("GRU", (3, 5), {"batch_first": True}, (rand(3),),
     "input: expected a 2-D or 3-D tensor (B, T, D), or (T, D) unbatched, got 1-D shape (3,)"),
    ("GRU", (3, 5), {}, (rand(2, 4, 3, dtype=F64),),
     "input: expected dtype torch.float32 (the weights'), got torch.float64; convert the input with "
     "input.to(torch.float32) or the module with module.to(torch.float64)"),
    ("RNN", (3, 5), {}, (rand(6, 4, 7),), "input: expected feature size input_size=3 (T, B, D), got 7"),
    ("LSTM", (10, 20), {"proj_size": 10}, (rand(2, 3, 3),),
     "input: expected feature size input_size=10 (T, B, D), got 3"),
    ("GRU", (5, 6), {"bidirectional": True}, (rand(0, 10, 5),),
     "input: expected a sequence length T >= 1 (T, B, D), got shape (0, 10, 5)"),
    ("LSTM", (5, 6), {}, (rand(0, 5),),
     "input: expected a sequence length T >= 1 (T, D), got shape (0, 5)"),
    ("RNN", (3, 5, 2), {}, (rand(6, 4, 3), rand(2, 7, 5)),
     "hx h_0: expected shape (2, 4, 5) (L*dirs, B, H), got (2, 7, 5)"),
    ("GRU", (3, 5, 2), {}, (rand(6, 4, 3), rand(7, 4, 5)),
     "hx h_0: expected shape (2, 4, 5) (L*dirs, B, H), got (7, 4, 5)"),
    ("GRU", (3, 5, 2), {}, (rand(6, 4, 3), rand(2, 4, 7)),
     "hx h_0: expected shape (2, 4, 5) (L*dirs, B, H), got (2, 4, 7)"),
    ("LSTM", (3, 5, 2), {}, (rand(6, 4, 3), (rand(2, 4, 5), rand(2, 4, 7))),
     "hx c_0: expected shape (2, 4, 5) (L*dirs, B, H), got (2, 4, 7)"),
    ("LSTM", (3, 5, 2), {"proj_size": 2}, (rand(6, 4, 3), (rand(2, 4, 5), rand(2, 4, 5))),
     "hx h_0: expected shape (2, 4, 2) (L*dirs, B, H), got (2, 4, 5)"),
    ("LSTM", (3, 5, 2), {"proj_size": 2}, (rand(6, 4, 3), (rand(2, 4, 2), rand(2, 4, 2))),
     "hx c_0: expected shape (2, 4, 5) (L*dirs, B, H), got (2, 4, 2)"),
    ("GRU", (3, 5), {}, (rand(6, 4, 3), rand(4, 5)),
     "hx h_0: expected a 3-D tensor for a batched 3-D input, got 2-D"),
    ("RNN", (3, 5), {}, (rand(6, 3), rand(1, 1, 5)),
     "hx h_0: expected a 2-D tensor for an unbatched 2-D input, got 3-D"),
    ("LSTM", (3, 5), {}, (rand(6, 3), (rand(1, 1, 5), rand(1, 1, 5))),
     "hx h_0: expected a 2-D tensor for an unbatched 2-D input, got 3-D"),
    ("GRU", (3, 5), {}, (rand(6, 4, 3), rand(1, 4, 5, dtype=F64)),
     "hx h_0: expected dtype torch.float32 (the input's), got torch.float64"),
    ("LSTM", (3, 5), {}, (rand(6, 4, 3), (rand(1, 4, 5), rand(1, 4, 5, dtype=F64))),
     "hx c_0: expected dtype torch.float32 (the input's), got torch.float64"),
]  # fmt: skip


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name, args, kwargs, forward, message", LAYER_ERRORS)
def test_layer_errors_have_torchs_type_and_our_message(name, args, kwargs, forward, message, backend):
    with pytest.raises(Exception) as theirs:
        getattr(nn, name)(*args, **kwargs)(*forward)
    with pytest.raises(type(theirs.value)) as ours:
        getattr(rnn, name)(*args, **kwargs, backend=backend)(*forward)
    assert type(ours.value) is type(theirs.value)
    assert str(ours.value) == message


@pytest.mark.parametrize(
    "name, hx, message",
    [
        ("LSTM", rand(1, 4, 5), "hx: expected a tuple (h_0, c_0), got Tensor"),
        ("LSTM", (rand(1, 4, 5),), "hx: expected a tuple (h_0, c_0), got a tuple of 1"),
        ("GRU", (rand(1, 4, 5),), "hx: expected a tensor h_0, got tuple"),
    ],
)
def test_a_state_of_the_wrong_kind_is_a_type_error(name, hx, message):
    """torch.nn fails here by accident (IndexError, AttributeError); rnnkit says what it expected."""
    with pytest.raises(TypeError) as e:
        getattr(rnn, name)(3, 5)(rand(6, 4, 3), hx)
    assert str(e.value) == message


def test_lengths_with_a_packed_or_unbatched_input_are_refused():
    lstm = rnn.LSTM(3, 5)
    packed = nn.utils.rnn.pack_padded_sequence(rand(4, 2, 3), [4, 2])
    with pytest.raises(ValueError, match="lengths: expected None with a PackedSequence input"):
        lstm(packed, lengths=torch.tensor([4, 2]))
    with pytest.raises(ValueError) as e:
        lstm(rand(4, 3), lengths=torch.tensor([4]))
    assert str(e.value) == "lengths: expected None with an unbatched input (one sequence of T steps), got some"


CELL_ERRORS = [
    ("RNNCell", (rand(3, 11), rand(3, 20)), "input: expected feature size input_size=10 (B, D), got 11"),
    ("GRUCell", (rand(3, 10), rand(3, 21)), "hx h: expected shape (3, 20) (B, H), got (3, 21)"),
    ("GRUCell", (rand(3, 10), rand(5, 20)), "hx h: expected shape (3, 20) (B, H), got (5, 20)"),
    ("RNNCell", (rand(3, 10), rand(1, 20)), "hx h: expected shape (3, 20) (B, H), got (1, 20)"),  # no broadcasting
    ("GRUCell", (rand(3, 10), rand(3, 1, 1, 20)),
     "hx h: expected a 1-D or 2-D tensor (B, H), or (H,) unbatched, got 4-D shape (3, 1, 1, 20)"),
    ("GRUCell", (rand(2, 2, 10),), "input: expected a 1-D or 2-D tensor (B, D), or (D,) unbatched, got 3-D shape "
     "(2, 2, 10)"),
    ("RNNCell", (rand(10), rand(1, 20)), "hx h: expected shape (1, 20) (B, H), got (1, 1, 20)"),
    ("LSTMCell", (rand(3, 11), (rand(3, 20), rand(3, 20))),
     "input: expected feature size input_size=10 (B, D), got 11"),
    ("LSTMCell", (rand(3, 10), (rand(3, 21), rand(3, 21))), "hx h: expected shape (3, 20) (B, H), got (3, 21)"),
    ("LSTMCell", (rand(3, 10), (rand(3, 20), rand(3, 21))), "hx c: expected shape (3, 20) (B, H), got (3, 21)"),
    ("LSTMCell", (rand(3, 10), (rand(5, 20), rand(5, 20))), "hx h: expected shape (3, 20) (B, H), got (5, 20)"),
    ("LSTMCell", (rand(3, 10), (rand(3, 1, 1, 20), rand(3, 1, 1, 20))),
     "hx h: expected a 1-D or 2-D tensor (B, H), or (H,) unbatched, got 4-D shape (3, 1, 1, 20)"),
    ("GRUCell", (rand(3, 10), rand(3, 20, dtype=F64)), "hx h: expected dtype torch.float32 (the input's), got "
     "torch.float64"),
]  # fmt: skip


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name, forward, message", CELL_ERRORS)
def test_cell_errors_have_torchs_type_and_our_message(name, forward, message, backend):
    with pytest.raises(Exception) as theirs:
        getattr(nn, name)(10, 20)(*forward)
    with pytest.raises(type(theirs.value)) as ours:
        getattr(rnn, name)(10, 20, backend=backend)(*forward)
    assert type(ours.value) is type(theirs.value)
    assert str(ours.value) == message


def test_a_cell_checks_sizes_before_dtype_as_torch():
    """torch.nn's cells check sizes first and fail on a dtype mismatch inside the kernel
    (RuntimeError); the cells here keep that order and type, with a message saying what to convert."""
    with pytest.raises(RuntimeError) as e:
        rnn.GRUCell(3, 4)(rand(2, 3, dtype=F64))
    assert str(e.value) == (
        "input: expected dtype torch.float32 (the weights'), got torch.float64; convert the input with "
        "input.to(torch.float32) or the module with module.to(torch.float64)"
    )
    with pytest.raises(RuntimeError, match="input: expected feature size input_size=3"):
        rnn.LSTMCell(3, 4)(rand(2, 5, dtype=F64))
    with pytest.raises(RuntimeError, match=r"hx h: expected shape \(2, 4\)"):
        rnn.RNNCell(3, 4)(rand(2, 3, dtype=F64), rand(3, 4, dtype=F64))


def test_an_unknown_nonlinearity_set_on_a_cell_fails_at_forward_as_torch():
    cell = rnn.RNNCell(3, 4)
    cell.nonlinearity = "sigmoid"
    with pytest.raises(RuntimeError) as e:
        cell(rand(2, 3))
    assert str(e.value) == "nonlinearity: expected one of ('tanh', 'relu'), got 'sigmoid'"
