"""Variable-length batches: validating lengths, sorting for the fused loop, reversing in place.

Sequences are left-aligned: sequence b occupies steps 0..len_b-1 of a padded (T, B, ...) batch.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor


def check_lengths(lengths, B: int, T: int, device) -> Tensor | None:
    """Validate ``lengths`` (any order) and return it as a LongTensor on ``device``."""
    if lengths is None:
        return None
    if not isinstance(lengths, Tensor):
        lengths = torch.as_tensor(lengths)
    if lengths.dim() != 1:
        raise ValueError(f"lengths: expected a 1-D tensor of B={B} sequence lengths, got shape {tuple(lengths.shape)}")
    if lengths.dtype.is_floating_point or lengths.dtype.is_complex or lengths.dtype == torch.bool:
        raise ValueError(f"lengths: expected integer lengths, got dtype {lengths.dtype}")
    if lengths.numel() != B:
        raise ValueError(f"lengths: expected one length per sequence (B={B}), got {lengths.numel()}")
    if B and (int(lengths.min()) < 1 or int(lengths.max()) > T):
        raise ValueError(
            f"lengths: expected values in [1, T={T}], got min {int(lengths.min())}, max {int(lengths.max())}"
        )
    return lengths.to(device=device, dtype=torch.long)


@dataclass
class SortedBatch:
    """A batch reordered by decreasing length, as the fused loop needs it."""

    order: Tensor  # (B,) sorted position -> original row
    inverse: Tensor  # (B,) original row -> sorted position
    lengths: Tensor  # (B,) sorted lengths, descending
    batch_sizes: list[int]  # (T,) rows still running at each step

    @staticmethod
    def of(lengths: Tensor, T: int) -> SortedBatch:
        sorted_lengths, order = torch.sort(lengths, descending=True, stable=True)
        inverse = torch.empty_like(order)
        inverse[order] = torch.arange(order.numel(), device=order.device)
        counts = torch.bincount(sorted_lengths.cpu(), minlength=T + 1)  # how many end at each length
        alive = counts.flip(0).cumsum(0).flip(0)  # alive[t] = #rows with length >= t
        return SortedBatch(order, inverse, sorted_lengths, alive[1 : T + 1].tolist())


def reverse_index(lengths: Tensor | None, T: int, B: int, device) -> Tensor | None:
    """(T, B) time index that reverses each sequence within its own length (padding stays put).

    Gathering with it twice is the identity. None (plain flip) when every sequence is full."""
    if lengths is None:
        return None
    t = torch.arange(T, device=device)[:, None]  # (T, 1)
    return torch.where(t < lengths[None, :], lengths[None, :] - 1 - t, t)  # (T, B)


def reverse_time(x: Tensor, index: Tensor | None) -> Tensor:
    """Reverse (T, B, F) along time within each sequence's length."""
    if index is None:
        return x.flip(0)
    return x.gather(0, index.unsqueeze(-1).expand_as(x))


def zero_padding(x: Tensor, lengths: Tensor | None) -> Tensor:
    """(T, B, F) with steps at or past each sequence's length set to zero (NaN padding too)."""
    if lengths is None:
        return x
    T = x.shape[0]
    padding = torch.arange(T, device=x.device)[:, None] >= lengths[None, :]  # (T, B)
    return x.masked_fill(padding.unsqueeze(-1), 0.0)
