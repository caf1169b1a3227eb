"""State trees <-> (JSON document, flat dict of named tensors), without pickle.

Optimiser, scheduler and RNG states are nested trees of dicts, lists, tuples, numbers, strings, None
and tensors. JSON holds all of that except four things, which get a one-key tagged object:

    tensor           {"__tensor__": "optim.state.0.exp_avg"}   the tensor itself goes to the tensor table
    tuple            {"__tuple__": [...]}                      Adam's betas, python's random state
    inf / -inf / nan {"__float__": "inf"}                      ReduceLROnPlateau's best and mode_worse
    dict with a key that is not a str, or a str starting with "__"
                     {"__dict__": [[key, value], ...]}         optimiser state is keyed by int param ids

A plain dict never has a "__" key (those go through "__dict__"), so the tags cannot be confused with
user data, and decode(encode(x)) == x with every type restored: int keys stay ints, tuples stay tuples,
bools stay bools, a float stays a float. Anything else (functions, arrays, custom objects) is refused
with the path to the offending value, because storing it would need pickle.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
from torch import Tensor

TENSOR, TUPLE, FLOAT, DICT = "__tensor__", "__tuple__", "__float__", "__dict__"
_TAGS = (TENSOR, TUPLE, FLOAT, DICT)


def encode(value: Any, prefix: str, tensors: dict[str, Tensor] | None, what: str) -> Any:
    """Encode a state tree as JSON-compatible data; tensors are added to `tensors` under names
    `prefix.<path>` (e.g. "optim.state.0.exp_avg") and replaced by references.

    Args:
        value: the tree.
        prefix: first component of every tensor name ("model", "optim", "sched", "rng").
        tensors: the tensor table to add to, or None where tensors are not allowed (user meta).
        what: how error messages name the root ("meta", "optimizer_state", ...).

    Raises:
        TypeError: a value that JSON cannot hold without pickle, with its path.
    """
    return _encode(value, (prefix,), tensors, what)


def decode(doc: Any, tensors: Mapping[str, Tensor]) -> Any:
    """Invert `encode`: rebuild the tree, looking tensor references up in `tensors`.

    Raises:
        ValueError: a reference to a tensor that is not in the table, or a malformed tag.
    """
    if isinstance(doc, list):
        return [decode(v, tensors) for v in doc]
    if not isinstance(doc, dict):
        return doc
    if len(doc) == 1:
        ((tag, payload),) = doc.items()
        if tag == TENSOR:
            if payload not in tensors:
                raise ValueError(f"expected tensor {payload!r} in the file, got no such tensor")
            return tensors[payload]
        if tag == TUPLE:
            return tuple(decode(v, tensors) for v in _expect_list(payload, tag))
        if tag == FLOAT:
            if payload not in ("inf", "-inf", "nan"):
                raise ValueError(f"expected 'inf', '-inf' or 'nan' in {FLOAT}, got {payload!r}")
            return float(payload)
        if tag == DICT:
            pairs = _expect_list(payload, tag)
            if not all(isinstance(p, list) and len(p) == 2 for p in pairs):
                raise ValueError(f"expected [key, value] pairs in {DICT}, got {pairs!r:.80}")
            return {decode(k, tensors): decode(v, tensors) for k, v in pairs}
    return {k: decode(v, tensors) for k, v in doc.items()}


def _expect_list(payload: Any, tag: str) -> list:
    if not isinstance(payload, list):
        raise ValueError(f"expected a list in {tag}, got {type(payload).__name__}")
    return payload


def _encode(value: Any, path: tuple, tensors: dict[str, Tensor] | None, what: str) -> Any:
    # bool before int (bool is an int); numpy scalars (np.float32(0.5), np.int64(3)) become
    # the python number of the same value, which is what JSON can say.
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, np.generic):
        item = value.item()
        if not isinstance(item, (bool, int, float)):
            raise TypeError(f"{_where(what, path)}: expected a number, got numpy {type(value).__name__}")
        return _encode(item, path, tensors, what)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value) if math.isfinite(value) else {FLOAT: repr(float(value))}
    if isinstance(value, Tensor):
        if tensors is None:
            raise TypeError(
                f"{_where(what, path)}: expected a JSON value (number, str, bool, None, list, "
                f"tuple, dict), got a Tensor; use .item() for a number or .tolist() for a list"
            )
        return {TENSOR: _add_tensor(tensors, ".".join(str(p) for p in path), value)}
    if isinstance(value, tuple):
        return {TUPLE: [_encode(v, (*path, i), tensors, what) for i, v in enumerate(value)]}
    if isinstance(value, list):
        return [_encode(v, (*path, i), tensors, what) for i, v in enumerate(value)]
    if isinstance(value, dict):
        if all(isinstance(k, str) and not k.startswith("__") for k in value):
            return {k: _encode(v, (*path, k), tensors, what) for k, v in value.items()}
        return {DICT: [[_encode_key(k, path, what), _encode(v, (*path, k), tensors, what)] for k, v in value.items()]}
    raise TypeError(
        f"{_where(what, path)}: expected a tensor, number, str, bool, None, list, tuple or dict, "
        f"got {type(value).__name__} (storing it would need pickle)"
    )


def _encode_key(key: Any, path: tuple, what: str) -> Any:
    # Keys are hashable, so lists/dicts cannot occur; tensors are hashable but meaningless as keys.
    if isinstance(key, Tensor):
        raise TypeError(
            f"{_where(what, path)}: expected dict keys that are str, int, float, bool, None "
            f"or tuples of those, got a Tensor key"
        )
    return _encode(key, path, None, what)


def _add_tensor(tensors: dict[str, Tensor], name: str, value: Tensor) -> str:
    # Two paths can spell the same name ({"a.b": x} and {"a": {"b": y}}): suffix the later one.
    unique, n = name, 1
    while unique in tensors:
        n += 1
        unique = f"{name}~{n}"
    tensors[unique] = value
    return unique


def _where(what: str, path: tuple) -> str:
    return what + "".join(f"[{p!r}]" for p in path[1:])
