"""The cell variants every test runs over, and small builders shared by the test modules.

A variant is the cell-specific part of a ``RecurrentConfig`` ({"cell": ..., options}). They come
from the registry (``rnnkit.cells.variants``): a newly registered cell is tested everywhere.
"""

from __future__ import annotations

import pytest
import torch

from rnnkit.cells import Cell, cell_for, has_kernel, kernel_variant, variants
from rnnkit.layers import RecurrentConfig

#: id -> RecurrentConfig keyword arguments. Every registered cell and every form of it.
VARIANTS: dict[str, dict] = variants()


def cell_of(variant: dict, H: int = 8) -> Cell:
    """The variant's cell (its options checked against hidden size H)."""
    return cell_for(RecurrentConfig(**{"input_size": 1, "hidden_size": H, **variant}))


def kernel_cell_of(variant: dict) -> Cell | None:
    """The variant's kernel-backed cell on the CPU (None where it has none or no kernel builds)."""
    return kernel_variant(cell_of(variant), torch.device("cpu"), torch.float64)


#: The variants torch.nn implements (all but the reset-before GRU).
NATIVE_VARIANTS: dict[str, dict] = {k: v for k, v in VARIANTS.items() if cell_of(v).native is not None}
#: The variants with a kernel-backed form (the LSTM and the reset-after GRU).
KERNEL_VARIANTS: dict[str, dict] = {k: v for k, v in VARIANTS.items() if has_kernel(cell_of(v))}


def variant_params(variants: dict[str, dict] = VARIANTS) -> list:
    """``pytest.param``s of the variants, with readable ids."""
    return [pytest.param(kw, id=name) for name, kw in variants.items()]


def path_params() -> list:
    """(variant, path) ``pytest.param``s: every variant's eager fused path, and the kernel-backed
    one of the variants that have it."""
    eager = [pytest.param(kw, "eager", id=f"{name}-eager") for name, kw in VARIANTS.items()]
    return eager + [pytest.param(kw, "kernel", id=f"{name}-kernel") for name, kw in KERNEL_VARIANTS.items()]


def fused_cell_of(variant: dict, path: str, H: int = 8) -> Cell:
    """The cell the fused path runs: the eager cell, or its kernel-backed variant (skips the test
    where the kernel does not build here)."""
    if path == "eager":
        return cell_of(variant, H)
    cell = kernel_cell_of(variant)
    if cell is None:
        pytest.skip("the compiled kernel is unavailable here")
    return cell


def state_sizes(variant: dict, H: int) -> tuple[int, int | None]:
    """(h size, c size or None) of the variant at hidden size H."""
    return cell_of(variant, H).state_sizes(H)


def weights(
    cell: Cell,
    D: int,
    H: int,
    bias: bool = True,
    dtype=torch.float64,
    scale: float = 0.5,
    generator: torch.Generator | None = None,
) -> list[torch.Tensor | None]:
    """Random parameters of one layer-direction as the cell declares them (torch.nn's layout for
    the torch.nn cells: W_ih, W_hh, b_ih, b_hh), each requiring grad; biases None without bias."""

    def rand(*shape):
        return (scale * torch.randn(*shape, dtype=dtype, generator=generator)).requires_grad_()

    return [None if p.bias and not bias else rand(*p.shape) for p in cell.parameters(D, H)]
