"""What ``rnnkit train [TASK] --help`` shows as each flag's default, and its placeholder.

Generated, never written by hand: every flag whose dest is "section.field" (``rnnkit.cli.options``)
shows the value a run with data files and no flags gets, the task's own (``run_defaults``), so a flag
added later shows its default too; other flags show their argparse default. Placeholders read N
(an integer), X (a number), H, L, B, T, LR ... never "MODEL.RNN.HIDDEN_SIZE".
"""

from __future__ import annotations

import argparse
import textwrap

from rnnkit.config import override

#: the placeholder of a flag by its field (the last part of its dest); else by its type
METAVARS = {
    "hidden_size": "H",
    "num_layers": "L",
    "batch_size": "B",
    "seq_len": "T",
    "embedding_size": "E",
    "lr": "LR",
    "monitor": "METRIC",
    "device": "DEVICE",
    "encoding": "ENCODING",
    "text_column": "COLUMN",
    "label_column": "COLUMN",
    "delimiter": "CHAR",
}
BY_TYPE = {int: "N", float: "X"}


def run_defaults(spec) -> dict:
    """{section: dataclass} of ``rnnkit train [TASK] FILE`` with no flags: the task's defaults <- its
    base layer for data files and nothing given (``TaskSpec.base_layer``) <- its monitor (as
    ``cli.run.run_verb`` composes them)."""
    cfg = dict(spec.defaults())
    for section, table in spec.base_layer({}, ["FILE"]).items():
        cfg[section] = override(cfg[section], table, f"[{section}]")
    return spec.with_monitor(cfg, {})


def show_defaults(parser: argparse.ArgumentParser, cfg: dict) -> None:
    """Append "(default X)" to the help of every flag of ``parser`` (from ``cfg`` for "section.field"
    dests) and give every flag that takes a value a readable placeholder."""
    for action in parser._actions:
        if not action.option_strings or action.help in (None, argparse.SUPPRESS):
            continue
        takes_value = action.nargs != 0
        if takes_value and action.metavar is None and action.choices is None:
            field = action.dest.rpartition(".")[2]
            action.metavar = METAVARS.get(field) or BY_TYPE.get(action.type) or field.upper()
        value = config_value(cfg, action.dest) if "." in action.dest else action.default
        text = shown(value) if takes_value else None
        if text is not None and "(default" not in action.help:  # "(default: ...)" written by hand stays
            action.help = with_default(action.help, text)


def with_default(help_text: str, text: str) -> str:
    """ "stop after N steps (0: no limit)" -> "... (0: no limit; default 0)"; else "... (default 0)"."""
    if _remark_start(help_text) is None:
        return f"{help_text} (default {text})"
    return f"{help_text[:-1]}; default {text})"


def _remark_start(help_text: str) -> int | None:
    """Where the parenthesised remark ending ``help_text`` opens (a space before it), or None."""
    if not help_text.endswith(")"):
        return None
    depth = 0
    for i in range(len(help_text) - 1, -1, -1):
        depth += {")": 1, "(": -1}.get(help_text[i], 0)
        if depth == 0:
            return i if i > 0 and help_text[i - 1] == " " else None
    return None


def config_value(cfg: dict, dest: str):
    """The value at dest "model.rnn.hidden_size" of {section: dataclass}; None where there is none."""
    section, *path = dest.split(".")
    value = cfg.get(section)
    for name in path:
        value = getattr(value, name, None)
    return value


def shown(value) -> str | None:
    """A default as --help prints it; None for no value (None, "", a switch's False, SUPPRESS)."""
    if value is None or value == "" or value is argparse.SUPPRESS or isinstance(value, bool):
        return None
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, tuple | list):
        return ",".join(shown(v) or "" for v in value)
    return str(value)


def demo_note(parser: argparse.ArgumentParser, demo: dict, what: str) -> str:
    """The epilog of a command whose run without data files is a demo: the demo's settings as flags."""
    return settings_note(parser, demo, f"Without data files (the demo, on {what})")


def settings_note(parser: argparse.ArgumentParser, layer: dict, when: str) -> str:
    """A paragraph "WHEN these apply over the defaults shown: --flag value ...", wrapped at 78
    columns without breaking a flag from its value."""
    flags = " ".join(flag.replace(" ", "\N{NO-BREAK SPACE}") for flag in as_flags(parser, layer))
    text = textwrap.fill(f"{when} these apply over the defaults shown: {flags}", 78, break_on_hyphens=False)
    return text.replace("\N{NO-BREAK SPACE}", " ")


def as_flags(parser: argparse.ArgumentParser, layer: dict, section: str = "") -> list[str]:
    """A configuration layer ({"model": {"rnn": {"hidden_size": 256}}}) as the flags that set it
    ("--hidden-size 256"); a key without a flag as "[section] key = value"."""
    flags = {a.dest: a.option_strings[-1] for a in parser._actions if a.option_strings}
    out = []
    for key, value in layer.items():
        dest = f"{section}.{key}" if section else key
        if isinstance(value, dict):
            out += as_flags(parser, value, dest)
        elif dest in flags:
            out.append(flags[dest] if value is True else f"{flags[dest]} {shown(value)}")
        else:
            table, _, name = dest.rpartition(".")
            out.append(f"[{table}] {name} = {value!r}")
    return out
