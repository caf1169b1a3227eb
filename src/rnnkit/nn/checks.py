"""The drop-ins' input checks: torch.nn's rules and exception types, rnnkit's wording.

torch.nn raises ``ValueError`` for an input of the wrong rank (and, in its layers, of the wrong
dtype) and ``RuntimeError`` for a wrong feature size, a state of the wrong rank, shape, dtype or
device, an empty sequence, and a cell input of the wrong dtype; code written against torch.nn
catches those types, so the drop-ins raise the same ones, in torch.nn's order. The message is
rnnkit's: what was wrong, "expected X, got Y".
"""

from __future__ import annotations

from torch import Tensor

from rnnkit.layers.state import check_part


def check_rank(what: str, x, ranks: tuple[int, ...], layout: str) -> None:
    """``x`` is a tensor of one of ``ranks`` dimensions (ValueError, as torch.nn)."""
    if not isinstance(x, Tensor):
        raise TypeError(f"{what}: expected a tensor {layout}, got {type(x).__name__}")
    if x.dim() not in ranks:
        allowed = " or ".join(f"{r}-D" for r in ranks)
        raise ValueError(f"{what}: expected a {allowed} tensor {layout}, got {x.dim()}-D shape {tuple(x.shape)}")


def check_input(x: Tensor, weight: Tensor, input_size: int, layout: str) -> None:
    """A layer's input: dtype (ValueError, as torch.nn's layers) and device against the weights',
    then its feature size. (The cells check sizes first and raise RuntimeError for the dtype, as
    torch.nn's cells do: ``check_features``, then ``check_dtype_device(..., RuntimeError)``.)"""
    check_dtype_device(x, weight)
    check_features(x, input_size, layout)


def check_dtype_device(x: Tensor, weight: Tensor, dtype_error: type = ValueError) -> None:
    if x.dtype != weight.dtype:
        raise dtype_error(
            f"input: expected dtype {weight.dtype} (the weights'), got {x.dtype}; convert the input with "
            f"input.to({weight.dtype}) or the module with module.to({x.dtype})"
        )
    if x.device != weight.device:
        raise RuntimeError(f"input: expected device {weight.device} (the weights'), got {x.device}")


def check_features(x: Tensor, input_size: int, layout: str) -> None:
    if x.shape[-1] != input_size:
        raise RuntimeError(f"input: expected feature size input_size={input_size} {layout}, got {x.shape[-1]}")


def check_state(what: str, h, shape: tuple[int, ...], like: Tensor, layout: str) -> None:
    """One state tensor's type (TypeError), shape, dtype and device (RuntimeError, as torch.nn's kernels)."""
    check_part(h, shape, like, what, layout, error=RuntimeError, type_error=TypeError)


def state_parts(what: str, hx, pair: bool) -> tuple:
    """``hx`` as a tuple of its tensors: (h, c) for an LSTM (a pair, TypeError otherwise), (h,) else."""
    if pair:
        if not (isinstance(hx, (tuple, list)) and len(hx) == 2):
            got = f"a {type(hx).__name__} of {len(hx)}" if isinstance(hx, (tuple, list)) else type(hx).__name__
            raise TypeError(f"{what}: expected a tuple (h_0, c_0), got {got}")
        return tuple(hx)
    if not isinstance(hx, Tensor):
        raise TypeError(f"{what}: expected a tensor h_0, got {type(hx).__name__}")
    return (hx,)
