"""Held-out splits of labelled examples: which classes there are, and a seeded, stratified split.

Needs numpy only (no torch).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import numpy as np

from .errors import DataError


# ----- classes and splits -----------------------------------------------------------------------
def check_classes(labels: Iterable[str], where: str) -> list[str]:
    """The distinct labels, sorted; raises unless there are at least two (``where`` names the data)."""
    classes = sorted(set(labels))
    if not classes:
        raise DataError(f"data: {where} has no labels; expected at least two classes")
    if len(classes) == 1:
        raise DataError(f"data: {where} has a single class {classes[0]!r}; expected at least two classes")
    return classes


def split_indices(
    labels: Sequence[str], fractions: Sequence[float], seed: int, stratify: bool = True
) -> list[list[int]]:
    """Cut the indices ``0..N-1`` at random (``numpy.random.default_rng(seed)``) into parts of ``fractions``.

    ``fractions`` are 2 or 3 numbers in [0, 1) summing to 1. Stratified, each label's examples are
    shuffled and cut on their own, so every part keeps the label proportions, and a class with at
    least as many examples as non-zero fractions has one in every non-zero part. Otherwise one
    permutation is cut. Sizes round by largest remainder. Returns one ascending list per fraction:
    disjoint, together all indices, the same for the same seed.
    """
    values = _check_split_fractions(fractions)
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise DataError(f"data: expected an int split seed, got {seed!r}")
    labels = list(labels)
    if not labels:
        raise DataError("data: no examples to split; expected at least one label")
    rng = np.random.default_rng(seed)
    if stratify:
        groups: dict[str, list[int]] = {}
        for i, label in enumerate(labels):
            groups.setdefault(label, []).append(i)
        pools = [groups[label] for label in sorted(groups)]
    else:
        pools = [list(range(len(labels)))]
    parts: list[list[int]] = [[] for _ in values]
    for pool in pools:
        shuffled = rng.permutation(np.asarray(pool, dtype=np.int64))
        start = 0
        for part, size in zip(parts, _part_sizes(len(pool), values)):
            part.extend(int(i) for i in shuffled[start : start + size])
            start += size
    return [sorted(part) for part in parts]


def _check_split_fractions(fractions) -> list[float]:
    try:
        values = [float(f) for f in fractions]
    except (TypeError, ValueError):
        raise DataError(f"data: expected 2 or 3 split fractions, got {fractions!r}") from None
    if len(values) not in (2, 3):
        raise DataError(f"data: expected 2 or 3 split fractions, got {len(values)}: {tuple(values)}")
    if any(not math.isfinite(v) or not 0 <= v < 1 for v in values):
        raise DataError(f"data: expected split fractions in [0, 1), got {tuple(values)}")
    if abs(sum(values) - 1.0) > 1e-6:
        raise DataError(f"data: expected split fractions summing to 1, got {tuple(values)} (sum {sum(values):g})")
    return values


def _part_sizes(n: int, fractions: list[float]) -> list[int]:
    """Sizes adding up to ``n`` by largest remainder; with ``n`` at least the number of non-zero
    fractions, every non-zero fraction gets at least one (taken from the largest part)."""
    raw = [n * f for f in fractions]
    sizes = [math.floor(r) for r in raw]
    live = [i for i, f in enumerate(fractions) if f > 0]
    by_remainder = sorted(live, key=lambda i: (-(raw[i] - sizes[i]), i))
    for k in range(n - sum(sizes)):
        sizes[by_remainder[k % len(by_remainder)]] += 1
    if n >= len(live):
        for i in live:
            if sizes[i] == 0:
                donor = max(range(len(sizes)), key=lambda j: (sizes[j], -j))
                sizes[donor] -= 1
                sizes[i] += 1
    return sizes
