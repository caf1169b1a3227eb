"""The cell variants every test runs over, and small builders shared by the test modules.

A variant is the cell-specific part of a ``RecurrentConfig``: (cell, nonlinearity, reset_after).
"""

from __future__ import annotations

import pytest
import torch

from rnnkit.cells import Cell, make_cell

#: id -> RecurrentConfig keyword arguments. Every cell and every form of it.
VARIANTS: dict[str, dict] = {
    "lstm": {"cell": "lstm"},
    "gru": {"cell": "gru", "reset_after": True},
    "gru_reset_before": {"cell": "gru", "reset_after": False},
    "rnn_tanh": {"cell": "rnn", "nonlinearity": "tanh"},
    "rnn_relu": {"cell": "rnn", "nonlinearity": "relu"},
}

#: The variants torch.nn implements (all but the reset-before GRU).
NATIVE_VARIANTS: dict[str, dict] = {k: v for k, v in VARIANTS.items() if k != "gru_reset_before"}


def variant_params(variants: dict[str, dict] = VARIANTS) -> list:
    """``pytest.param``s of the variants, with readable ids."""
    return [pytest.param(kw, id=name) for name, kw in variants.items()]


def cell_of(variant: dict) -> Cell:
    return make_cell(variant["cell"], variant.get("nonlinearity", "tanh"), variant.get("reset_after", True))


def weights(
    cell: Cell,
    D: int,
    H: int,
    bias: bool = True,
    dtype=torch.float64,
    scale: float = 0.5,
    generator: torch.Generator | None = None,
) -> list[torch.Tensor | None]:
    """Random (W_ih, W_hh, b_ih, b_hh) in torch.nn's layout, each requiring grad."""
    G = cell.num_gates

    def rand(*shape):
        return (scale * torch.randn(*shape, dtype=dtype, generator=generator)).requires_grad_()

    w = [rand(G * H, D), rand(G * H, H)]
    return w + ([rand(G * H), rand(G * H)] if bias else [None, None])
