"""Which units track what? Correlate every unit's activation with simple properties of the text.

Karpathy, Johnson & Fei-Fei (2015) found char-rnn cells that switch on inside quotes, count the
position in a line, or fire inside brackets. This ranks every unit (every layer and signal: h, c,
gates) by the Pearson correlation r between its activation after reading each symbol and a
property of the text at that point:

    inside_quotes    1 while a quotation is open after this symbol: '"' toggles, '“' opens, '”' closes
    inside_brackets  1 while a (, [ or { is open (nested: depth > 0)
    line_position    the symbol's index within its line (0 for the first)
    after_newline    1 when the symbol just read is a newline
    vowel            1 for a vowel, 0 for a consonant (letters only; other symbols are left out)

A unit with |r| near 1 tracks the property; the sign says whether it is high or low there.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

PROPERTIES = ("inside_quotes", "inside_brackets", "line_position", "after_newline", "vowel")
PROPERTY_NAMES = {
    "inside_quotes": "inside quotes",
    "inside_brackets": "inside brackets",
    "line_position": "position in the line",
    "after_newline": "after a newline",
    "vowel": "vowel vs consonant",
}

_OPEN_BRACKETS, _CLOSE_BRACKETS = "([{", ")]}"
_VOWELS = set("aeiouAEIOUàáâäèéêëìíîïòóôöùúûüÀÁÂÄÈÉÊËÌÍÎÏÒÓÔÖÙÚÛÜ")


@dataclass(frozen=True)
class UnitMatch:
    """A unit and how well it tracks a property: ``layer`` and ``unit`` are 0-based."""

    signal: str
    layer: int
    unit: int
    r: float

    def describe(self) -> str:
        return f"layer {self.layer + 1} {self.signal}[{self.unit}] r={self.r:+.2f}"


def text_properties(pieces: list[str]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """{property: (values (N,) float64, mask (N,) bool)} for the text given as one piece per position
    (the mask is where the property is defined). A piece longer than one character (a word) counts
    as its characters read in order; the property is the state after its last one."""
    N = len(pieces)
    quotes, brackets, position, newline, vowel = (np.zeros(N) for _ in range(5))
    letter = np.zeros(N, dtype=bool)
    inside, depth, column = False, 0, 0
    for t, piece in enumerate(pieces):
        for ch in piece:
            if ch == '"':
                inside = not inside
            elif ch == "“":
                inside = True
            elif ch == "”":
                inside = False
            elif ch in _OPEN_BRACKETS:
                depth += 1
            elif ch in _CLOSE_BRACKETS:
                depth = max(0, depth - 1)
        quotes[t], brackets[t] = inside, depth > 0
        position[t] = column
        column = 0 if piece.endswith("\n") else column + len(piece)
        newline[t] = piece.endswith("\n")
        last = piece.rstrip()[-1:] or piece[-1:]
        letter[t] = last.isalpha()
        vowel[t] = last in _VOWELS
    everywhere = np.ones(N, dtype=bool)
    return {
        "inside_quotes": (quotes, everywhere),
        "inside_brackets": (brackets, everywhere),
        "line_position": (position, everywhere),
        "after_newline": (newline, everywhere),
        "vowel": (vowel, letter),
    }


def rank_units(
    signals: dict[str, np.ndarray],
    properties: dict[str, tuple[np.ndarray, np.ndarray]],
    top: int = 5,
) -> dict[str, list[UnitMatch]]:
    """The ``top`` units per property by |Pearson r|, strongest first.

    Args:
        signals: {signal name: activations (L, N, H)} (``TextActivations.signals``).
        properties: from ``text_properties`` (same N).

    Returns:
        {property: [UnitMatch, ...]}; an empty list where the property does not vary on this text
        (e.g. no brackets at all), since nothing can correlate with a constant.
    """
    names, blocks = [], []
    for signal, values in signals.items():
        L, N, H = values.shape
        names += [(signal, layer, unit) for layer in range(L) for unit in range(H)]
        blocks.append(values.transpose(1, 0, 2).reshape(N, L * H))  # (N, L*H)
    acts = np.concatenate(blocks, axis=1).astype(np.float64)  # (N, U)
    ranked: dict[str, list[UnitMatch]] = {}
    for prop, (values, mask) in properties.items():
        if values.shape[0] != acts.shape[0]:
            raise ValueError(f"properties: expected {acts.shape[0]} positions, got {values.shape[0]} for {prop}")
        r = _correlations(acts[mask], values[mask])  # (U,)
        if r is None:
            ranked[prop] = []
            continue
        order = np.argsort(-np.abs(r), kind="stable")[:top]
        ranked[prop] = [UnitMatch(*names[i], float(r[i])) for i in order]
    return ranked


def _correlations(acts: np.ndarray, prop: np.ndarray) -> np.ndarray | None:
    """Pearson r of each column of ``acts`` (n, U) with ``prop`` (n,); None if prop is constant.
    A constant unit gets r = 0."""
    if prop.size < 2 or np.ptp(prop) == 0:
        return None
    p = (prop - prop.mean()) / prop.std()
    a = acts - acts.mean(axis=0)
    std = acts.std(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        r = (a * p[:, None]).mean(axis=0) / std
    return np.where(std > 1e-12, r, 0.0)
