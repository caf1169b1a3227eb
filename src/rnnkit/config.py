"""Configuration dataclasses from and to plain dicts (TOML tables, checkpoint JSON), in one place.

    override(instance, values, where)   a copy of a dataclass with ``values`` applied
    to_dict(instance)                    the dict it is stored as (the inverse)

A field whose value is itself a dataclass is a nested table: ``[model.rnn]`` in TOML, ``{"rnn":
{...}}`` in JSON. A dataclass may declare two class attributes for its nested tables:

    FLAT_ALIASES = ("rnn",)              keys of the nested table may also be given flat, in the outer
                                         table (the spelling before the table existed: ``[model]
                                         hidden_size = 256`` means ``[model.rnn] hidden_size = 256``)
    DERIVED = {"rnn": ("input_size",)}   keys of the nested table the owner sets itself: refused in
                                         ``values``, left out of ``to_dict``

A leaf module: it imports nothing from rnnkit, and anyone may import it.
"""

from __future__ import annotations

import dataclasses


def override(instance, values: dict, where: str):
    """A copy of dataclass ``instance`` with ``values`` applied; unknown keys are an error.

    ``where`` names the table in messages, e.g. "[model]" or "checkpoint [model]"."""
    fields = {f.name: f for f in dataclasses.fields(instance)}
    values = _nest_flat_keys(instance, dict(values), fields, where)
    unknown = sorted(set(values) - set(fields))
    if unknown:
        raise ValueError(f"config: unknown key(s) {unknown} in {where}; expected some of {sorted(fields)}")
    changes = {}
    for key, value in values.items():
        default = getattr(instance, key)
        if dataclasses.is_dataclass(default) and isinstance(value, dict):
            changes[key] = _override_nested(instance, key, default, value, where)
            continue
        if isinstance(default, tuple) and isinstance(value, list):
            value = tuple(value)
        if isinstance(default, float) and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if default is not None and not isinstance(value, type(default)):
            raise ValueError(f"config: {where} key {key!r}: expected a {type(default).__name__}, got {value!r}")
        changes[key] = value
    return dataclasses.replace(instance, **changes)


def to_dict(instance) -> dict:
    """The plain dict of a config dataclass: nested tables as dicts, derived keys left out."""
    out = {}
    derived = getattr(instance, "DERIVED", {})
    for f in dataclasses.fields(instance):
        value = getattr(instance, f.name)
        if dataclasses.is_dataclass(value):
            value = {k: v for k, v in to_dict(value).items() if k not in derived.get(f.name, ())}
        out[f.name] = value
    return out


def nested_where(where: str, key: str) -> str:
    """ "[model]" -> "[model.rnn]"; "checkpoint [model]" -> "checkpoint [model.rnn]"."""
    return f"{where[:-1]}.{key}]" if where.endswith("]") else f"{where}.{key}"


def _override_nested(owner, key: str, default, value: dict, where: str):
    inner = nested_where(where, key)
    derived = sorted(set(value) & set(getattr(owner, "DERIVED", {}).get(key, ())))
    if derived:
        raise ValueError(
            f"config: {inner} key(s) {derived} are set by the model itself; expected them unset (they follow "
            f"from the model's other settings)"
        )
    try:
        return override(default, value, inner)
    except ValueError as e:
        message = str(e)
        raise ValueError(message if message.startswith("config: ") else f"config: {inner} {message}") from None


def _nest_flat_keys(instance, values: dict, fields: dict, where: str) -> dict:
    """Move keys of a nested table given flat (see FLAT_ALIASES) into that table."""
    for key in getattr(instance, "FLAT_ALIASES", ()):
        inner = {f.name for f in dataclasses.fields(getattr(instance, key))}
        flat = {k: values.pop(k) for k in list(values) if k not in fields and k in inner}
        if not flat:
            continue
        nested = dict(values.get(key) or {})
        twice = sorted(set(flat) & set(nested))
        if twice:
            raise ValueError(
                f"config: {where} gives {twice} both flat and in {nested_where(where, key)}; expected each once, "
                f"in {nested_where(where, key)}"
            )
        values[key] = {**flat, **nested}
    return values
