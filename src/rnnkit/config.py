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
import os


def override(instance, values: dict, where: str, origin: str = ""):
    """A copy of dataclass ``instance`` with ``values`` applied; unknown keys are an error.

    ``where`` names the table in messages, e.g. "[model]" or "checkpoint [model]"; ``origin`` where the
    values came from, e.g. " in run.toml" (empty for the command line). Each value must have the type
    of its field's declared default, not of the value an earlier layer gave (an integer is a float)."""
    if not isinstance(values, dict):
        raise ValueError(f"config: {where}{origin}: expected a table, got {values!r}")
    fields = {f.name: f for f in dataclasses.fields(instance)}
    values = _nest_flat_keys(instance, dict(values), fields, where)
    unknown = sorted(set(values) - set(fields))
    if unknown:
        raise ValueError(f"config: unknown key(s) {unknown} in {where}{origin}; expected some of {sorted(fields)}")
    changes = {}
    for key, value in values.items():
        default = getattr(instance, key)
        if dataclasses.is_dataclass(default):
            changes[key] = _override_nested(instance, key, default, value, where, origin)
            continue
        if isinstance(default, tuple) and isinstance(value, list):
            value = tuple(value)
        declared = _declared_type(fields[key], default)
        if declared is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if declared is not None and not isinstance(value, declared):  # a bool integer: the validators say
            raise ValueError(f"config: {where} key {key!r}: expected a {declared.__name__}, got {value!r}{origin}")
        changes[key] = value
    return dataclasses.replace(instance, **changes)


def _declared_type(field: dataclasses.Field, current) -> type | None:
    """The type of a field's default (None where the default is None), else of its current value."""
    if field.default is not dataclasses.MISSING:
        default = field.default
    elif field.default_factory is not dataclasses.MISSING:
        default = field.default_factory()
    else:
        default = current
    return None if default is None else type(default)


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


def _override_nested(owner, key: str, default, value: dict, where: str, origin: str):
    inner = nested_where(where, key)
    if not isinstance(value, dict):
        raise ValueError(f"config: {inner}{origin}: expected a table, got {value!r}")
    derived = sorted(set(value) & set(getattr(owner, "DERIVED", {}).get(key, ())))
    if derived:
        raise ValueError(
            f"config: {inner} key(s) {derived} are set by the model itself{origin}; expected them unset (they follow "
            f"from the model's other settings)"
        )
    try:
        return override(default, value, inner, origin)
    except ValueError as e:
        message = str(e)
        raise ValueError(
            message if message.startswith("config: ") else f"config: {inner}{origin}{':' if origin else ''} {message}"
        ) from None


def _nest_flat_keys(instance, values: dict, fields: dict, where: str) -> dict:
    """Move keys of a nested table given flat (see FLAT_ALIASES) into that table."""
    for key in getattr(instance, "FLAT_ALIASES", ()):
        if not isinstance(values.get(key) or {}, dict):
            continue  # override refuses the nested table that is not a table
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


# ----- the numbers a config may hold ---------------------------------------------------------------
#: The largest finite float32: a learning rate, bias or scale beyond it overflows every float32 tensor.
FLOAT32_MAX = 3.4028234663852886e38


def is_real(value) -> bool:
    """A finite number (not a bool) that float32 can hold: what every float setting must be."""
    return (
        isinstance(value, int | float) and not isinstance(value, bool) and -FLOAT32_MAX <= value <= FLOAT32_MAX
    )  # NaN fails both comparisons


def memory_limit() -> int:
    """Bytes of physical memory of this machine (the bound a model's estimated size is checked against)."""
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):  # no sysconf: assume a generous 1 TiB
        return 1 << 40


def check_fits(nbytes: float, what: str, got: str) -> None:
    """Raise ValueError unless an estimated ``nbytes`` fits in this machine's memory; ``what`` names the
    estimate ("model: parameters, gradients and optimiser state"), ``got`` the sizes that gave it."""
    limit = memory_limit()
    if nbytes > limit:
        raise ValueError(
            f"{what}: expected an estimated size within the {_gib(limit)} of memory, got {_gib(nbytes)} for {got}"
        )


def _gib(nbytes: float) -> str:
    return f"{nbytes / 2**30:.3g} GiB"


#: Validation metrics whose higher values are better (their names end so); every other is a loss.
HIGHER_IS_BETTER = ("acc", "accuracy", "f1", "bleu", "chrf")


def monitor_mode(metric: str) -> str:
    """ "max" for a metric named like an accuracy or a translation score, "min" for a loss."""
    return "max" if metric.endswith(HIGHER_IS_BETTER) else "min"
