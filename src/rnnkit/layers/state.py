"""Hidden state: zero default, shape checks, and detaching for truncated BPTT.

A state is what torch.nn uses: a tensor h of shape (L*dirs, B, H) for Elman and GRU layers, a
tuple (h, c) of two such tensors for LSTM. Index k = layer * dirs + direction.
"""

from __future__ import annotations

import torch
from torch import Tensor

State = Tensor | tuple[Tensor, Tensor]


def detach_state(state):
    """Cut the graph behind a carried state (truncated BPTT): same values, no history.

    Works on a tensor, a tuple/list of tensors (nested), or None."""
    if state is None:
        return None
    if isinstance(state, Tensor):
        return state.detach()
    if isinstance(state, (tuple, list)):
        return type(state)(detach_state(s) for s in state)
    raise TypeError(f"detach_state: expected a tensor, a tuple of tensors or None, got {type(state).__name__}")


def initial_state(
    state,
    has_cell_state: bool,
    shape: tuple[int, int, int],
    like: Tensor,
    what: str = "state",
    c_shape: tuple[int, int, int] | None = None,
) -> tuple[Tensor, Tensor | None]:
    """Validate a user-given state (or make the zero state). Returns (h0, c0 or None).

    ``shape`` is h's; ``c_shape`` c's where it differs (the projection LSTM: h (.., P), c (.., H))."""
    c_shape = shape if c_shape is None else c_shape
    if state is None:
        h0 = like.new_zeros(shape)
        return h0, (like.new_zeros(c_shape) if has_cell_state else None)
    if has_cell_state:
        if not (isinstance(state, (tuple, list)) and len(state) == 2):
            raise ValueError(f"{what}: expected a tuple (h, c) for an LSTM, got {_describe(state)}")
        h0, c0 = state
        check_part(h0, shape, like, f"{what} h")
        check_part(c0, c_shape, like, f"{what} c")
        return h0, c0
    if not isinstance(state, Tensor):
        raise ValueError(f"{what}: expected a tensor h of shape {shape}, got {_describe(state)}")
    check_part(state, shape, like, what)
    return state, None


def check_part(
    t, shape, like: Tensor, what: str, layout: str = "(L*dirs, B, H)", error: type = ValueError, type_error=ValueError
) -> None:
    """One state tensor's type (``type_error``), shape, dtype and device against ``like`` (``error``:
    ValueError here; rnnkit.nn's drop-ins raise torch.nn's RuntimeError and TypeError)."""
    if not isinstance(t, Tensor):
        raise type_error(f"{what}: expected a tensor of shape {shape}, got {_describe(t)}")
    if tuple(t.shape) != tuple(shape):
        raise error(f"{what}: expected shape {tuple(shape)} {layout}, got {tuple(t.shape)}")
    if t.dtype != like.dtype:
        raise error(f"{what}: expected dtype {like.dtype} (the input's), got {t.dtype}")
    if t.device != like.device:
        raise error(f"{what}: expected device {like.device} (the input's), got {t.device}")


def _describe(x) -> str:
    if isinstance(x, Tensor):
        return f"a tensor of shape {tuple(x.shape)}"
    if isinstance(x, (tuple, list)):
        return f"a {type(x).__name__} of {len(x)}"
    return type(x).__name__


def stack_states(hs: list[Tensor], cs: list[Tensor | None]) -> State:
    h = torch.stack(hs)  # L*dirs x (B, H) -> (L*dirs, B, H)
    return (h, torch.stack(cs)) if cs and cs[0] is not None else h
