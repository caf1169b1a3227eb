"""One time step of each recurrent cell: equations, forward and hand-derived backward, and the
registry every layer, backend and test derives from (``rnnkit.cells.registry``)."""

from rnnkit.cells import compiled
from rnnkit.cells.base import FORGET_BIAS, Cell, Param
from rnnkit.cells.gru import GRUCell
from rnnkit.cells.gru_ln import LayerNormGRUCell
from rnnkit.cells.indrnn import IndRNNCell
from rnnkit.cells.lstm import LSTMCell
from rnnkit.cells.lstm_ln import LayerNormLSTMCell
from rnnkit.cells.lstm_proj import ProjLSTMCell
from rnnkit.cells.mingru import MinGRUCell
from rnnkit.cells.minlstm import MinLSTMCell
from rnnkit.cells.registry import (
    CELL_TYPES,
    GATE_ORDER,
    REGISTRY,
    cell_for,
    has_kernel,
    kernel_variant,
    make_cell,
    options_of,
    torch_classes,
    variants,
)
from rnnkit.cells.rnn import NONLINEARITIES, ElmanCell
from rnnkit.cells.scan_cell import ScanCell

__all__ = [
    "CELL_TYPES",
    "compiled",
    "FORGET_BIAS",
    "GATE_ORDER",
    "REGISTRY",
    "Cell",
    "ElmanCell",
    "GRUCell",
    "IndRNNCell",
    "LSTMCell",
    "LayerNormGRUCell",
    "LayerNormLSTMCell",
    "MinGRUCell",
    "MinLSTMCell",
    "NONLINEARITIES",
    "Param",
    "ProjLSTMCell",
    "ScanCell",
    "cell_for",
    "has_kernel",
    "kernel_variant",
    "make_cell",
    "options_of",
    "torch_classes",
    "variants",
]
