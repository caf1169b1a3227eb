"""The time loop, written once for all cells: fused BPTT, autograd reference (the observed loop),
native dispatch, one backend rule, stacking, bidirectional, variable lengths, state carry and the
single-step API."""

from rnnkit.layers.backend import BACKENDS, Route, resolve
from rnnkit.layers.config import RecurrentConfig
from rnnkit.layers.dropout import Dropout, dropout
from rnnkit.layers.fused import FusedRecurrence, fused_recurrence
from rnnkit.layers.interop import from_torch, to_torch
from rnnkit.layers.recurrent import GRU, LSTM, RNN, Recurrent
from rnnkit.layers.reference import Observer, StackObserver, reference_recurrence
from rnnkit.layers.stack import Stack, one_step
from rnnkit.layers.state import detach_state

__all__ = [
    "BACKENDS",
    "Dropout",
    "GRU",
    "LSTM",
    "RNN",
    "FusedRecurrence",
    "Observer",
    "Recurrent",
    "RecurrentConfig",
    "Route",
    "Stack",
    "StackObserver",
    "detach_state",
    "dropout",
    "from_torch",
    "fused_recurrence",
    "one_step",
    "reference_recurrence",
    "resolve",
    "to_torch",
]
