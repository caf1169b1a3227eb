"""The native backend: torch.nn's own kernels (cuDNN on GPU, oneDNN on CPU) on our parameters.

This is exactly what ``torch.nn.LSTM/GRU/RNN.forward`` calls; our parameters already have
torch.nn's names and layout, so nothing is copied. Which kernel runs a cell is the cell's own
declaration (``Cell.native``, ``Cell.native_cell``: names in ``torch._VF``).
"""

from __future__ import annotations

import torch
from torch import _VF, Tensor
from torch.nn.utils.rnn import PackedSequence, pack_padded_sequence, pad_packed_sequence

from rnnkit.cells import Cell


def supports(cell: Cell) -> bool:
    """Whether torch.nn implements the cell (every cell here except the reset-before GRU)."""
    return cell.native is not None


def native_recurrence(
    cell: Cell,
    x: Tensor,
    hx: Tensor | tuple[Tensor, Tensor],
    flat_weights: list[Tensor],
    has_bias: bool,
    num_layers: int,
    dropout: float,
    training: bool,
    bidirectional: bool,
    lengths: Tensor | None,
):
    """The whole stack over time-major x (T, B, D). Returns (output (T, B, dirs*H), h_n, c_n or None)."""
    kernel = getattr(_VF, cell.native)
    if lengths is None:
        result = kernel(x, hx, flat_weights, has_bias, num_layers, dropout, training, bidirectional, False)
        output = result[0]
    else:
        T = x.shape[0]
        packed = pack_padded_sequence(x, lengths.cpu(), enforce_sorted=False)
        order = packed.sorted_indices
        hx = tuple(s.index_select(1, order) for s in hx) if isinstance(hx, tuple) else hx.index_select(1, order)
        result = kernel(
            packed.data, packed.batch_sizes, hx, flat_weights, has_bias, num_layers, dropout, training, bidirectional
        )
        out_packed = PackedSequence(result[0], packed.batch_sizes, order, packed.unsorted_indices)
        output, _ = pad_packed_sequence(out_packed, total_length=T)
        inverse = packed.unsorted_indices
        result = (result[0],) + tuple(s.index_select(1, inverse) for s in result[1:])
    h_n = result[1]
    c_n = result[2] if cell.has_cell_state else None
    return output, h_n, c_n


def torch_module_class(cell: Cell) -> type[torch.nn.RNNBase]:
    return getattr(torch.nn, cell.torch_module)


def native_step(cell: Cell, x: Tensor, h: Tensor, c: Tensor | None, w: tuple) -> tuple[Tensor, Tensor | None]:
    """One step with torch's cell kernels (what nn.LSTMCell/GRUCell/RNNCell run): x (B, D) -> (h, c)."""
    kernel = getattr(_VF, cell.native_cell)
    if cell.has_cell_state:
        return kernel(x, (h, c), *w)
    return kernel(x, h, *w), None
