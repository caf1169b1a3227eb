"""Batching: id sequences in, ``torch.long`` batches out. The only part of ``rnnkit.data`` that needs torch.

- :mod:`.streams`: :class:`StreamBatcher`, B contiguous streams of one id stream read T steps at a
  time (language models, truncated BPTT, state carried from window to window).
- :mod:`.padded`: :class:`BucketBatcher` (seeded, length-bucketed batch order per epoch) and
  :func:`pad_sequences` / :func:`pad_chars` (right-padded id batches with their lengths):
  classification, tagging and any other task of one sequence per example.

``import rnnkit.data`` does not import this package (``rnnkit.data.StreamBatcher`` loads it on
first use), so reading and tokenising work without torch.
"""

from __future__ import annotations

from .padded import BucketBatcher, pad_chars, pad_sequences
from .streams import StreamBatcher

__all__ = ["BucketBatcher", "StreamBatcher", "pad_chars", "pad_sequences"]
