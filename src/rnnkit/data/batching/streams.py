"""Language-model batches for truncated BPTT: B parallel contiguous streams, read T steps at a time.

This is the char-rnn / Zaremba et al. (2014) layout. Instead of shuffling short independent
sequences, the token stream is cut into B long streams side by side, and each batch is the
next window of T steps of every stream. Row b of one batch continues exactly where row b of
the previous batch stopped, so the hidden state at the end of a batch is the right initial
state for the next one (carried, detached): the model sees long-range context at the cost of
back-propagating through only T steps.
"""

from __future__ import annotations

import operator
from collections.abc import Iterator

import numpy as np
import torch
from torch import Tensor

from ..errors import DataError


class StreamBatcher:
    """Iterate over (inputs, targets) windows of B contiguous streams of a token stream.

    The N ids are cut into B streams of L = N // B tokens (the last N - B L ids are dropped),
    stream b holding ids[b L : (b+1) L]. Window k takes steps k T .. k T + T - 1 of every
    stream as inputs and the same steps shifted by one as targets. Example, ids = 0..16
    (N = 17), B = 2, T = 3, so L = 8, token 16 dropped, and 7 input steps give 3 windows::

        stream 0:    0  1  2 |  3  4  5 |  6  7
        stream 1:    8  9 10 | 11 12 13 | 14 15
                     window 0   window 1   window 2

        window 0:  x = [[0, 1, 2], [8, 9, 10]]      y = [[1, 2, 3], [9, 10, 11]]
        window 1:  x = [[3, 4, 5], [11, 12, 13]]    y = [[4, 5, 6], [12, 13, 14]]
        window 2:  x = [[6], [14]]                  y = [[7], [15]]

    State carry: x[b, 0] of window k+1 is y[b, -1] of window k, i.e. the token right after
    the last input of window k in the same stream. So the hidden state after window k,
    detached, is the correct initial state for window k+1; reset it only at the start of an
    epoch. The last window is shorter when T does not divide L - 1 (never empty).

    Exact resume: :meth:`iter_from` (k) yields windows k, k+1, ... identical to what a full
    pass yields from window k on; store k (and the carried state) in a checkpoint.

    Args:
        ids: 1-D numpy integer array of token ids (any integer dtype, e.g. the compact uint8
            from :meth:`rnnkit.data.vocab.Vocab.encode`). Kept by reference, never copied whole.
        batch_size: B, the number of parallel streams.
        seq_len: T, the number of time steps per window (the BPTT truncation length).

    Shapes:
        each window: x (B, T_k), y (B, T_k), dtype torch.long, T_k = T except maybe the last.

    Raises:
        DataError: ``ids`` is not a 1-D integer array; ``batch_size`` or ``seq_len`` < 1;
            fewer than 2 tokens per stream (N < 2 B).
    """

    def __init__(self, ids: np.ndarray, batch_size: int, seq_len: int):
        if not isinstance(ids, np.ndarray) or ids.ndim != 1 or ids.dtype.kind not in "ui":
            got = f"shape {ids.shape} dtype {ids.dtype}" if isinstance(ids, np.ndarray) else type(ids).__name__
            raise DataError(f"data: expected ids as a 1-D numpy integer array, got {got}")
        B = _positive_int(batch_size, "batch size")
        T = _positive_int(seq_len, "sequence length")
        N = ids.shape[0]
        L = N // B
        if L < 2:
            # One input and its target per stream is the least a window can hold.
            raise DataError(
                f"data: {N} tokens give fewer than 2 tokens per stream for batch size {B}; "
                f"expected at least {2 * B} tokens, use a smaller --batch-size"
            )
        self._ids = ids
        self._B, self._T, self._L = B, T, L
        self._streams = ids[: B * L].reshape(B, L)  # (N,) -> (B, L), a view
        self._num_windows = -(-(L - 1) // T)  # ceil((L - 1) / T): L - 1 input steps per stream

    # ----- sizes --------------------------------------------------------------------------------
    @property
    def batch_size(self) -> int:
        """B, the number of parallel streams."""
        return self._B

    @property
    def seq_len(self) -> int:
        """T, the steps per (full) window."""
        return self._T

    @property
    def stream_len(self) -> int:
        """L = N // B, the tokens per stream."""
        return self._L

    @property
    def dropped(self) -> int:
        """Tokens at the end of ``ids`` that fit in no stream (N - B L, less than B)."""
        return self._ids.shape[0] - self._B * self._L

    @property
    def targets_per_epoch(self) -> int:
        """Predicted tokens per epoch, B (L - 1): the denominator of an epoch's mean loss."""
        return self._B * (self._L - 1)

    @property
    def streams(self) -> np.ndarray:
        """The (B, L) view of the ids that windows are cut from (compact dtype, read it only)."""
        return self._streams

    def __len__(self) -> int:
        """Windows per epoch: ceil((L - 1) / T)."""
        return self._num_windows

    # ----- windows ------------------------------------------------------------------------------
    def window(self, k: int) -> tuple[Tensor, Tensor]:
        """Window k as (x, y), both torch.long of shape (B, T_k).

        Raises:
            DataError: k is not in [0, len(self)).
        """
        k = _index(k, len(self), "window")
        start = k * self._T
        stop = min(start + self._T, self._L - 1)
        # Widen to int64 per window only: the whole stream stays in its compact dtype.
        x = torch.from_numpy(self._streams[:, start:stop].astype(np.int64))  # (B, T_k)
        y = torch.from_numpy(self._streams[:, start + 1 : stop + 1].astype(np.int64))  # (B, T_k)
        return x, y

    def iter_from(self, k: int) -> Iterator[tuple[Tensor, Tensor]]:
        """Windows k, k+1, ..., len-1 (for resuming mid-epoch). k == len(self) yields nothing.

        Raises:
            DataError: k is not in [0, len(self)] (checked at the call, not at first next()).
        """
        k = _index(k, len(self) + 1, "start window")
        return (self.window(i) for i in range(k, len(self)))

    def __iter__(self) -> Iterator[tuple[Tensor, Tensor]]:
        return self.iter_from(0)

    def __repr__(self) -> str:
        return f"StreamBatcher(batch_size={self._B}, seq_len={self._T}, stream_len={self._L}, windows={len(self)})"


def _integer(value, expected: str) -> int:
    """``value`` as an int (bool refused); else DataError "expected <expected>, got value"."""
    try:
        if isinstance(value, bool):
            raise TypeError
        return operator.index(value)
    except TypeError:
        raise DataError(f"data: expected {expected}, got {value!r}") from None


def _positive_int(value, what: str) -> int:
    n = _integer(value, f"{what} to be an integer >= 1")
    if n < 1:
        raise DataError(f"data: expected {what} >= 1, got {n}")
    return n


def _index(value, end: int, what: str) -> int:
    """Validate an index into range(end)."""
    k = _integer(value, f"{what} to be an integer")
    if not 0 <= k < end:
        raise DataError(f"data: {what} {k} is out of range; expected 0 <= {what} <= {end - 1}")
    return k
