"""What every ``rnnkit train`` form does with its arguments: compose the configuration, check
them, and hand the run to the one run driver (``rnnkit.tasks.driver``) with the verb's task spec.

Configuration layers, each overriding the one before: the task's defaults <- its demo (no data)
or its [train] defaults <- --preset <- --config <- flags. Fine-tuning (``--init-from RUN``) puts
RUN's [data] and [model] under them in place of the task's defaults (``rnnkit.tasks.init_from``).
"""

from __future__ import annotations

import dataclasses
import sys
import time
from pathlib import Path

from rnnkit.cli.options import SECTIONS, flag_values, given_flags, read_preset, read_toml
from rnnkit.config import override
from rnnkit.tasks import driver
from rnnkit.tasks.spec import TaskSpec


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def run_verb(args, spec: TaskSpec, options: dict | None = None) -> int:
    """``rnnkit train [TASK] ...``: a new run, ``--init-from RUN`` (fine-tuning), or ``--resume RUN_DIR``."""
    progress = not args.no_progress
    init_from = getattr(args, "init_from", None)
    if args.resume:
        if init_from:
            raise ValueError(
                "init-from: expected --init-from RUN (a new run from RUN's weights) or --resume RUN_DIR (continue "
                "that run), got both"
            )
        _only_training_options(args)
        driver.resume(spec, Path(args.resume), flag_values(args)["train"], log, progress, options)
        return 0
    demo = spec.demo()
    if init_from and not args.data:
        raise ValueError(
            f"init-from: expected the data to fine-tune on, e.g. `{spec.verb} DATA --init-from {init_from}`"
        )
    if not args.data and demo is None:
        raise ValueError(f"data: expected at least one data file or directory for '{spec.verb}'")
    init = driver.read_init(spec, init_from) if init_from else None
    layers = given_layers(args)  # --preset, --config, flags: each file read once
    given = merged(layers)
    base = spec.base_layer(given, list(args.data), fine_tuning=init is not None)
    cfg = compose([(base, ""), *layers], spec.defaults() if init is None else init.defaults(spec))
    cfg = spec.with_monitor(cfg, given)
    cfg["data"].validate()
    cfg["train"].validate()
    spec.check_model(cfg)
    fields = getattr(cfg["data"], "HELD_OUT", ("valid", "test"))  # the data config's held-out file settings
    held_out = {k: str(Path(v).resolve()) for k in fields if (v := getattr(cfg["data"], k))}
    cfg["data"] = dataclasses.replace(cfg["data"], **held_out)
    sources = [str(Path(s).resolve()) for s in args.data] or spec.default_sources()
    if init is not None:  # what cannot be given, and RUN's own directory, before "already holds a checkpoint"
        init.check_kept(spec, cfg)
        if args.run_dir:
            init.check_run_dir(args.run_dir)
    run_dir = new_run_dir(args.run_dir, spec.run_name(args.data))
    if note := spec.sizing_note(cfg, given, list(args.data), fine_tuning=init is not None):
        log(note)
    driver.train(spec, cfg, sources, run_dir, log, progress, options, init)
    return 0


def given_layers(args) -> list[tuple[dict, str]]:
    """What --preset, --config and the flags set, in that order: (values {section: {...}}, where
    they came from, as messages name it)."""
    layers = [(read_preset(args.preset), f" in preset {args.preset}")] if getattr(args, "preset", None) else []
    layers += [(read_toml(args.config), f" in {args.config}")] if args.config else []
    return [*layers, (flag_values(args), "")]


def merged(layers: list[tuple[dict, str]]) -> dict:
    """{section: {field: value}} of ``layers`` (later ones win; nested tables such as [model.rnn] merged)."""
    out: dict = {s: {} for s in SECTIONS}
    for layer, _ in layers:
        for section in SECTIONS:
            _merge(out[section], layer.get(section, {}))
    return out


def _merge(into: dict, table: dict) -> None:
    for key, value in table.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            _merge(into[key], value)
        else:
            into[key] = dict(value) if isinstance(value, dict) else value


def compose(layers: list[tuple[dict, str]], defaults: dict) -> dict:
    """{section: dataclass} from ``defaults`` <- each of ``layers`` ((values, origin), in order)."""
    configs = dict(defaults)
    for layer, origin in layers:
        for section in SECTIONS:
            if layer.get(section):
                configs[section] = override(configs[section], layer[section], f"[{section}]", origin)
    return configs


def new_run_dir(flag: str | None, name: str) -> Path:
    """The directory of a new run: --run-dir, else runs/<name>-<time>. One holding a checkpoint is
    refused (training would overwrite it; --resume continues it)."""
    run_dir = Path(flag) if flag else Path("runs") / f"{name}-{time.strftime('%Y%m%d-%H%M%S')}"
    if (run_dir / "latest.safetensors").exists():
        raise ValueError(
            f"run directory: {run_dir} already holds a checkpoint; expected a new directory "
            f"(--run-dir) or --resume {run_dir}"
        )
    return run_dir


def _only_training_options(args) -> None:
    changed = given_flags(args)
    preset = getattr(args, "preset", None)
    if args.data or args.config or preset or changed:
        what = ", ".join(changed) or ("data" if args.data else ("--config" if args.config else "--preset"))
        raise ValueError(
            f"resume: expected only training options with --resume (the data and model are fixed "
            f"by the checkpoint), got {what}"
        )
