"""Choosing the next token from logits: temperature, top-k, top-p (nucleus), greedy.

Temperature divides the logits before the softmax: below 1 sharpens the distribution (more
conservative, more repetitive text), above 1 flattens it (more surprising, more mistakes).
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from rnnkit.config import is_real

#: Below this, logits / temperature overflow float32 (|logit| ~ 1e2 / 1e-30 is still finite).
MIN_TEMPERATURE = 1e-30


def check_sampling(temperature: float = 1.0, top_k: int = 0, top_p: float = 1.0) -> None:
    """Raise ValueError ("expected X, got Y") for settings that cannot define a distribution.
    top_k = 0 means no top-k filter."""
    if not (is_real(temperature) and temperature > 0):
        raise ValueError(f"temperature: expected a number > 0 (lower = more conservative), got {temperature!r}")
    if temperature < MIN_TEMPERATURE:
        raise ValueError(
            f"temperature: expected a number >= {MIN_TEMPERATURE:g} (smaller overflows float32; greedy decoding is "
            f"the limit), got {temperature!r}"
        )
    if isinstance(top_k, bool) or not isinstance(top_k, int) or top_k < 0:
        raise ValueError(f"top-k: expected an integer >= 1 (0: no top-k filter), got {top_k!r}")
    if not (is_real(top_p) and 0 < top_p <= 1):
        raise ValueError(f"top-p: expected a number in (0, 1], got {top_p!r}")


def next_token_probs(logits: Tensor, temperature: float = 1.0, top_k: int = 0, top_p: float = 1.0) -> Tensor:
    """The distribution sampling draws from: logits (B, V) -> probabilities (B, V)."""
    logits = logits.float() / temperature
    V = logits.shape[-1]
    if top_k and top_k < V:
        kth = torch.topk(logits, top_k, dim=-1).values[..., -1:]  # (B, 1)
        logits = logits.masked_fill(logits < kth, -math.inf)
    probs = torch.softmax(logits, dim=-1)
    _check_finite(probs)
    if top_p < 1.0:
        sorted_probs, order = torch.sort(probs, dim=-1, descending=True)
        before = sorted_probs.cumsum(-1) - sorted_probs  # mass strictly above each token
        sorted_probs = sorted_probs.masked_fill(before >= top_p, 0.0)  # keep the smallest set reaching top_p
        probs = torch.zeros_like(probs).scatter_(-1, order, sorted_probs)
        probs = probs / probs.sum(-1, keepdim=True)
    return probs


def sample_next(
    logits: Tensor,
    temperature: float = 1.0,
    top_k: int = 0,
    top_p: float = 1.0,
    greedy: bool = False,
    generator: torch.Generator | None = None,
) -> Tensor:
    """One token per row: logits (B, V) -> ids (B,)."""
    if greedy:
        _check_finite(logits)
        return logits.argmax(-1)
    probs = next_token_probs(logits, temperature, top_k, top_p)
    return torch.multinomial(probs, 1, generator=generator).squeeze(-1)  # (B, 1) -> (B,)


def _check_finite(values: Tensor) -> None:
    """NaN or inf here means the model's outputs overflowed (weights of a diverged run): one line, not
    torch's "probability tensor contains either inf, nan or element < 0"."""
    if not bool(torch.isfinite(values).all()):
        raise ValueError(
            "sample: the model's next-token scores are NaN or infinite (its weights overflow, as after a "
            "diverged run, or the temperature is too small); expected finite scores: sample from an earlier "
            "checkpoint or at a higher temperature"
        )
