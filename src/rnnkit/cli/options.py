"""Composing a run's configuration: dataclass defaults <- preset <- TOML file <- command-line flags.

Each component owns a dataclass with its defaults (DataConfig, LanguageModelConfig,
TrainConfig). A config file has one table per component ([data], [model], [train]; the recurrent
stack's settings in [model.rnn], or flat in [model] as before that table existed); a flag is
registered with ``dest="section.field"`` (``"model.rnn.cell"`` for a nested table) and
``default=SUPPRESS`` so only flags actually given override anything. ``rnnkit.config.override``
applies each layer. A preset is a config file shipped with the package (``rnnkit/presets/NAME.toml``).
"""

from __future__ import annotations

import argparse
import tomllib
from pathlib import Path

import rnnkit

SECTIONS = ("data", "model", "train")
PRESETS_DIR = Path(rnnkit.__file__).parent / "presets"


def preset_names() -> list[str]:
    """The presets shipped with the package, sorted (e.g. ptb-large, ptb-medium, ptb-small)."""
    return sorted(p.stem for p in PRESETS_DIR.glob("*.toml"))


def read_preset(name: str) -> dict:
    """The config tables of the preset ``name``. Raises ValueError naming the presets if unknown."""
    names = preset_names()
    if name not in names:
        raise ValueError(f"preset: unknown preset {name!r}; expected one of {', '.join(names) or '(none installed)'}")
    return read_toml(PRESETS_DIR / f"{name}.toml")


def read_toml(path) -> dict:
    p = Path(path)
    if not p.is_file():
        raise ValueError(f"config: no such file: {p}")
    try:
        doc = tomllib.loads(p.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise ValueError(f"config: {p} is not valid TOML ({e}); expected [data], [model] and [train] tables") from None
    unknown = sorted(set(doc) - set(SECTIONS))
    if unknown:
        raise ValueError(f"config: unknown table(s) {unknown} in {p}; expected some of {list(SECTIONS)}")
    for section, table in doc.items():
        if not isinstance(table, dict):
            raise ValueError(f"config: [{section}] in {p}: expected a table, got {table!r}")
    return doc


def flag_values(args: argparse.Namespace) -> dict[str, dict]:
    """{section: {field: value}} for the flags given on the command line; a dest "model.rnn.cell"
    gives {"model": {"rnn": {"cell": ...}}}."""
    out: dict[str, dict] = {s: {} for s in SECTIONS}
    for dest, value in vars(args).items():
        if "." in dest:
            section, *path, field = dest.split(".")
            table = out[section]
            for key in path:
                table = table.setdefault(key, {})
            table[field] = value
    return out


def given_flags(args: argparse.Namespace, sections=("data", "model")) -> list[str]:
    """The flags given for ``sections``, as "section.field" (nested tables left out of the name)."""
    dests = [dest.split(".") for dest in vars(args) if "." in dest]
    return [f"{parts[0]}.{parts[-1]}" for parts in dests if parts[0] in sections]


def fractions(text: str) -> tuple[float, float, float]:
    """argparse type for --split "0.9,0.05,0.05"."""
    try:
        values = tuple(float(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected three comma-separated fractions, got {text!r}") from None
    if len(values) != 3:
        raise argparse.ArgumentTypeError(f"expected three comma-separated fractions, got {text!r}")
    return values


def add(group, *names, dest: str, help: str, **kwargs) -> None:
    group.add_argument(*names, dest=dest, default=argparse.SUPPRESS, help=help, **kwargs)


def intermixed(parser) -> None:
    """Let positionals follow options ("predict RUN --top 3 a b"): argparse (Python 3.11 at least) gives
    an optional positional (nargs "*" / "?") nothing once an option comes between it and the one before."""
    plain = type(parser)

    class Intermixed(plain):
        def parse_known_args(self, args=None, namespace=None):
            if getattr(self, "_inner", False):
                return plain.parse_known_args(self, args, namespace)
            self._inner = True
            try:
                return self.parse_known_intermixed_args(args, namespace)
            finally:
                self._inner = False

    parser.__class__ = Intermixed
