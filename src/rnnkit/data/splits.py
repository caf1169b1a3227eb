"""Held-out splits: a token stream cut contiguously (language models), labelled examples cut at random.

- :func:`split_ids`: train, then val, then test, each a contiguous stretch of the id stream (a
  faithful piece of text, what perplexity on held-out text needs). Views, no copy.
- :func:`split_indices`: a seeded, optionally stratified random split of example indices
  (classification, tagging); :func:`check_classes` lists the classes a split's labels give.

Needs numpy only (no torch).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import numpy as np

from .errors import DataError

#: Default split: the first 90% of the stream trains, the next 5% validates, the last 5% tests.
DEFAULT_FRACTIONS = (0.9, 0.05, 0.05)
SPLIT_NAMES = ("train", "val", "test")

#: The fewest tokens a non-empty split may hold: one input and its next-token target.
MIN_SPLIT_TOKENS = 2


# ----- a contiguous token stream ---------------------------------------------------------------
def split_ids(ids: np.ndarray, fractions: Sequence[float] = DEFAULT_FRACTIONS) -> dict[str, np.ndarray]:
    """Cut an id stream into three contiguous parts: train, then val, then test.

    With the default fractions the first 90% of the tokens train, the next 5% validate and the
    last 5% test. Contiguous (not shuffled) splits keep every part a faithful stretch of text,
    which is what a language model evaluated by perplexity on held-out text needs.

    Sizes: ``n_val = round(N * f_val)``, ``n_test = round(N * f_test)`` and train takes the
    rest, so the three always add up to N.

    Args:
        ids: 1-D array of token ids (any integer dtype; it is kept).
        fractions: three numbers (train, val, test), each >= 0, summing to 1 (within 1e-6),
            with train > 0. A zero fraction gives an empty split.

    Shapes:
        ids (N,) -> train (N_train,), val (N_val,), test (N_test,); views of ``ids``, no copy.

    Returns:
        ``{"train": ..., "val": ..., "test": ...}``.

    Raises:
        DataError: bad fractions, ``ids`` not a 1-D integer array, or too few tokens to give
            every split with a non-zero fraction at least 2 tokens.
    """
    f_train, f_val, f_test = check_fractions(fractions)
    ids = _check_ids(ids)
    n = ids.shape[0]
    n_val = int(round(n * f_val))
    n_test = int(round(n * f_test))
    n_train = n - n_val - n_test
    sizes = {"train": (f_train, n_train), "val": (f_val, n_val), "test": (f_test, n_test)}
    for name, (frac, size) in sizes.items():
        if frac > 0 and size < MIN_SPLIT_TOKENS:
            raise DataError(
                f"data: {n} tokens are too few to split by {tuple(fractions)}: {name} would get "
                f"{size} tokens; expected at least {MIN_SPLIT_TOKENS} in every split with a "
                f"non-zero fraction, use more text or other split fractions"
            )
    return {
        "train": ids[:n_train],  # (N_train,)
        "val": ids[n_train : n_train + n_val],  # (N_val,)
        "test": ids[n_train + n_val :],  # (N_test,)
    }


def check_fractions(fractions) -> tuple[float, float, float]:
    try:
        values = tuple(float(f) for f in fractions)
    except (TypeError, ValueError):
        raise DataError(f"data: expected three split fractions (train, val, test), got {fractions!r}") from None
    if len(values) != 3:
        raise DataError(
            f"data: expected three split fractions (train, val, test), got {len(values)}: {tuple(fractions)}"
        )
    if any(not math.isfinite(v) or v < 0 for v in values):
        raise DataError(f"data: expected non-negative split fractions, got {tuple(fractions)}")
    if abs(sum(values) - 1.0) > 1e-6:
        raise DataError(f"data: expected split fractions summing to 1, got {tuple(fractions)} (sum {sum(values):g})")
    if values[0] <= 0:
        raise DataError(f"data: expected a positive train fraction, got {tuple(fractions)}")
    return values  # type: ignore[return-value]


def _check_ids(ids) -> np.ndarray:
    if not isinstance(ids, np.ndarray):
        raise DataError(f"data: expected ids as a 1-D numpy integer array, got {type(ids).__name__}")
    if ids.ndim != 1 or ids.dtype.kind not in "ui":
        raise DataError(f"data: expected ids as a 1-D numpy integer array, got shape {ids.shape} dtype {ids.dtype}")
    return ids


# ----- labelled examples -----------------------------------------------------------------------
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
