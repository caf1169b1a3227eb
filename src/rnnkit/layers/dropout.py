"""Dropout (Srivastava et al. 2014) as every rnnkit model applies it, cheaper to draw on a CPU.

    y = x * m / q,   m ~ Bernoulli(q) element-wise,  q = 1 - p    (training; the identity otherwise)

On a CPU, ``torch.nn.functional.dropout`` draws one 32-bit random number per element, and drawing
is most of its cost: ~19 ms for the (T=100, B=64, H=512) activations of a 2x512 language model, 4-5%
of that model's training step at each of its three dropout sites. Here each element gets 16 random
bits instead (one 64-bit draw from torch's generator serves four elements), and is kept when they
are at least ``t = round(p * 2**16)``: the keep probability is q = 1 - t / 2**16 exactly, within
2**-17 of 1 - p, and the scale 1/q makes E[y] = x exactly. About 3.5x faster on the CPU; the same
distribution as torch's up to that rounding of p, from the same seeded global generator (so runs are
reproducible). On other devices torch's fused kernel is already fast and is used as it is.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

_LEVELS = 1 << 16  # 16 random bits per element


def dropout(x: Tensor, p: float, training: bool = True, scale: float | None = None) -> Tensor:
    """Dropout of ``x`` with drop probability ``p`` in [0, 1] (see the module docstring). ``scale``:
    what kept elements are multiplied by; None: 1/q, so that E[y] = x exactly. (``rnnkit.nn``'s
    drop-ins pass torch.nn's 1/(1-p): every kept value is then torch.nn's, and E[y] is within
    2**-17 / (1 - p) of x, relatively.)"""
    if not training or p == 0:
        return x
    if x.device.type != "cpu" or not x.is_floating_point():
        return F.dropout(x, p, training=True)
    threshold = round(p * _LEVELS)
    if threshold >= _LEVELS:
        return x * 0.0  # every element dropped (p = 1, as torch: zeros, and zero gradients)
    n = x.numel()
    words = torch.randint(-(2**63), 2**63 - 1, ((n + 3) // 4,), dtype=torch.int64)  # 4 x 16 bits each
    bits = words.view(torch.int16)[:n].view(x.shape)  # uniform on [-2**15, 2**15)
    keep = bits >= threshold - _LEVELS // 2  # P(keep) = 1 - threshold / 2**16
    factor = keep.to(x.dtype).mul_(_LEVELS / (_LEVELS - threshold) if scale is None else scale)
    return x * factor


def locked_dropout(x: Tensor, p: float, training: bool = True, scale: float | None = None) -> Tensor:
    """Variational ("locked") dropout of a time-major x (T, B, ...): ONE mask per sequence, the same
    at every step (Gal & Ghahramani 2016), drawn as ``dropout`` draws."""
    if not training or p == 0:
        return x
    return x * dropout(torch.ones_like(x[:1]), p, scale=scale)  # (1, B, ...) over all T


class Dropout(nn.Module):
    """``nn.Dropout``'s interface (``p``; the identity in eval mode) drawing as ``dropout`` does.
    ``locked``: on time-major (T, B, ...) inputs, one mask per sequence (``locked_dropout``)."""

    def __init__(self, p: float = 0.5, locked: bool = False):
        super().__init__()
        if not 0 <= p <= 1:
            raise ValueError(f"dropout: expected p in [0, 1], got {p!r}")
        self.p, self.locked = p, locked

    def forward(self, x: Tensor) -> Tensor:
        if self.locked and x.dim() >= 3:
            return locked_dropout(x, self.p, self.training)
        return dropout(x, self.p, self.training)

    def extra_repr(self) -> str:
        return f"p={self.p}" + (", locked=True" if self.locked else "")
