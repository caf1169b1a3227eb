"""The autograd backend: the cell equations as plain PyTorch ops, one step at a time.

Slow but transparent, and independent of the fused loop (no sorting, no buffers, no hand-written
gradients: autograd differentiates ``Cell.reference_step``). Variable lengths are handled with
masks here rather than by sorting, so the tests compare two different mechanisms.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from rnnkit.cells.base import Cell
from rnnkit.layers.sequence import zero_padding


def reference_recurrence(
    cell: Cell,
    x: Tensor,
    h0: Tensor,
    c0: Tensor | None,
    w_ih: Tensor,
    w_hh: Tensor,
    b_ih: Tensor | None,
    b_hh: Tensor | None,
    lengths: Tensor | None = None,
) -> tuple[Tensor, Tensor, Tensor | None]:
    """One layer-direction over x (T, B, D). Returns outputs (T, B, H), h_T (B, H), c_T or None.

    With ``lengths``, a finished sequence keeps its state and outputs zeros."""
    T = x.shape[0]
    # Padding may hold anything, NaN included; masking the state alone would not stop it: NaN
    # outputs past the end (h_new * 0) and NaN gradients (0 * NaN in the step's backward).
    x = zero_padding(x, lengths)
    x_proj = F.linear(x, w_ih, cell.input_bias(b_ih, b_hh))  # (T, B, D) -> (T, B, G*H)
    h, c = h0, c0
    outputs = []
    for t in range(T):
        h_new, c_new = cell.reference_step(x_proj[t], h, c, w_hh, b_hh)
        if lengths is None:
            h, c = h_new, c_new
            outputs.append(h)
            continue
        running = (t < lengths).unsqueeze(1)  # (B, 1)
        h = torch.where(running, h_new, h)
        if c is not None:
            c = torch.where(running, c_new, c)
        outputs.append(h_new * running)
    return torch.stack(outputs), h, c  # (T, B, H)
