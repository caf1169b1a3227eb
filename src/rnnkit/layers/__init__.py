"""The time loop, written once for all cells: fused BPTT, autograd reference, native dispatch,
stacking, bidirectional, variable lengths, state carry and the single-step API."""

from rnnkit.layers.fused import FusedRecurrence, fused_recurrence
from rnnkit.layers.interop import from_torch, to_torch
from rnnkit.layers.recurrent import BACKENDS, GRU, LSTM, RNN, Recurrent, RecurrentConfig
from rnnkit.layers.reference import reference_recurrence
from rnnkit.layers.state import detach_state

__all__ = [
    "BACKENDS",
    "GRU",
    "LSTM",
    "RNN",
    "FusedRecurrence",
    "Recurrent",
    "RecurrentConfig",
    "detach_state",
    "from_torch",
    "fused_recurrence",
    "reference_recurrence",
    "to_torch",
]
