"""One time step of each recurrent cell: equations, forward and hand-derived backward."""

from rnnkit.cells import compiled
from rnnkit.cells.base import FORGET_BIAS, GATE_ORDER, Cell, init_weights_
from rnnkit.cells.gru import GRUCell
from rnnkit.cells.lstm import LSTMCell
from rnnkit.cells.rnn import NONLINEARITIES, ElmanCell

CELL_TYPES = ("rnn", "lstm", "gru")


def make_cell(cell: str, nonlinearity: str = "tanh", reset_after: bool = True) -> Cell:
    """The cell math object for a cell name ("rnn", "lstm" or "gru")."""
    if cell == "lstm":
        return LSTMCell()
    if cell == "gru":
        return GRUCell(reset_after=reset_after)
    if cell == "rnn":
        return ElmanCell(nonlinearity)
    raise ValueError(f"cell: expected one of {CELL_TYPES}, got {cell!r}")


__all__ = [
    "CELL_TYPES",
    "compiled",
    "FORGET_BIAS",
    "GATE_ORDER",
    "Cell",
    "ElmanCell",
    "GRUCell",
    "LSTMCell",
    "NONLINEARITIES",
    "init_weights_",
    "make_cell",
]
