"""codec: state trees survive JSON with every type restored, and non-JSON values are refused by path."""

import json
import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from rnnkit.checkpoint.codec import decode, encode


def same(a, b) -> bool:
    """Equality that also checks types (1 vs 1.0 vs True, tuple vs list), nan == nan and the sign of 0.0."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return (math.isnan(a) and math.isnan(b)) or (a == b and math.copysign(1, a) == math.copysign(1, b))
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return len(a) == len(b) and all(
            same(ka, kb) and same(va, vb) for (ka, va), (kb, vb) in zip(a.items(), b.items())
        )
    if isinstance(a, torch.Tensor):
        return a.dtype == b.dtype and a.shape == b.shape and torch.equal(a, b)
    return a == b


def through_json(tree, tensors=None):
    doc = encode(tree, "x", tensors, "tree")
    text = json.dumps(doc, allow_nan=False)  # the codec must leave nothing JSON cannot say
    return decode(json.loads(text), tensors or {})


keys = st.one_of(
    st.text(max_size=6),
    st.integers(-5, 5),
    st.booleans(),
    st.none(),
    st.floats(allow_nan=False),
    st.tuples(st.integers(0, 3), st.text(max_size=2)),
)
leaves = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=8))
trees = st.recursive(
    leaves,
    lambda kids: st.one_of(
        st.lists(kids, max_size=4),
        st.tuples(kids, kids),
        st.dictionaries(keys, kids, max_size=4),
        st.dictionaries(st.text(max_size=6), kids, max_size=4),
    ),
    max_leaves=20,
)


@settings(max_examples=150, deadline=None)
@given(trees)
def test_round_trip_keeps_values_and_types(tree):
    assert same(through_json(tree), tree)


def test_tagged_looking_user_data_is_not_mistaken_for_tags():
    tree = {"__tensor__": "model.w", "x": {"__tuple__": [1, 2]}, "__float__": "inf"}
    assert same(through_json(tree), tree)
    assert same(through_json([{"__dict__": []}]), [{"__dict__": []}])


def test_tensors_go_to_the_table_under_their_path():
    step, avg = torch.tensor(3.0), torch.randn(2, 3)
    tree = {"state": {0: {"step": step, "exp_avg": avg}}, "param_groups": [{"betas": (0.9, 0.999)}]}
    table = {}
    back = through_json(tree, table)
    assert sorted(table) == ["x.state.0.exp_avg", "x.state.0.step"]
    assert back["state"][0]["step"] is step and back["param_groups"][0]["betas"] == (0.9, 0.999)


def test_colliding_tensor_names_get_distinct_names():
    a, b = torch.zeros(1), torch.ones(1)
    table = {}
    back = through_json({"a.b": a, "a": {"b": b}}, table)
    assert len(table) == 2 and back["a.b"] is a and back["a"]["b"] is b


def test_numpy_scalars_become_python_numbers():
    back = through_json({"loss": np.float32(0.5), "n": np.int64(3), "ok": np.bool_(True)})
    assert same(back, {"loss": 0.5, "n": 3, "ok": True})


@pytest.mark.parametrize(
    "value, where, got",
    [
        ({"a": [1, {2}]}, "tree['a'][1]", "got set"),
        ({"f": len}, "tree['f']", "got builtin_function_or_method"),
        ({"arr": np.zeros(2)}, "tree['arr']", "got ndarray"),
        ({"w": torch.zeros(1)}, "tree['w']", "got a Tensor; use .item()"),
        ({"c": 1j}, "tree['c']", "got complex"),
    ],
)
def test_values_that_would_need_pickle_are_refused_with_their_path(value, where, got):
    with pytest.raises(TypeError) as err:
        encode(value, "x", None, "tree")
    assert str(err.value).startswith(f"{where}: expected") and got in str(err.value)


def test_malformed_documents_raise_value_error():
    with pytest.raises(ValueError, match="expected tensor 'x.w' in the file"):
        decode({"__tensor__": "x.w"}, {})
    with pytest.raises(ValueError, match="expected 'inf'"):
        decode({"__float__": "1.5"}, {})
    with pytest.raises(ValueError, match="expected \\[key, value\\] pairs"):
        decode({"__dict__": [[1, 2, 3]]}, {})
