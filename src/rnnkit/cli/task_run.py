"""The run driver shared by ``rnnkit train classify`` and ``rnnkit train tag``.

Both commands are the same story told with different data: compose the configuration
(defaults <- --config <- flags), prepare the data, build the model and its trainer task, train with
the model-agnostic Trainer (checkpoints, metrics, curves, exact resume), then report the best
checkpoint on the test split. A command module supplies a ``TaskSpec``; this module does the rest.
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from rnnkit.checkpoint import read_meta
from rnnkit.cli.options import SECTIONS, flag_values, override, read_toml
from rnnkit.cli.train import compose, new_run_dir
from rnnkit.train import Trainer, resolve_device, seed_everything

#: With no budget given: a fixed number of epochs, evaluated (and checkpointed) after each.
DEFAULT_EPOCHS = 10.0


@dataclass
class Built:
    """What a task's ``build`` returns: the model and trainer task, the checkpoint metadata, a
    one-line description for the log, and ``report(run_dir, log)`` run after training."""

    model: object
    task: object
    meta: dict
    description: str
    report: Callable[[Path, Callable[[str], None]], None]


@dataclass
class TaskSpec:
    name: str  # "classify" / "tag"
    defaults: Callable[[], dict]  # {section: dataclass instance}
    build: Callable[..., Built]  # build(cfg, sources, device) -> Built


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def run_task(args, spec: TaskSpec) -> int:
    if args.resume:
        run_dir = Path(args.resume)
        meta = read_meta(run_dir / "latest.safetensors")
        if meta.get("task") != spec.name:
            raise ValueError(
                f"resume: {run_dir} holds a {meta.get('task', 'language-model')} run; expected a {spec.name} run"
            )
        flags = flag_values(args)
        changed = [f"{s}.{k}" for s in ("data", "model") for k in flags[s]]
        if args.data or args.config or changed:
            what = ", ".join(changed) or ("data" if args.data else "--config")
            raise ValueError(
                f"resume: expected only training options with --resume (the data and model are fixed by the "
                f"checkpoint), got {what}"
            )
        stored, defaults = meta["config"], spec.defaults()
        cfg = {s: override(defaults[s], stored[s], f"checkpoint [{s}]") for s in SECTIONS}
        cfg["train"] = override(cfg["train"], flags["train"], "flags").validate()
        sources = stored["source"]
    else:
        if not args.data:
            raise ValueError(f"data: expected at least one data file or directory for 'rnnkit train {spec.name}'")
        given = {**(read_toml(args.config).get("train", {}) if args.config else {}), **flag_values(args)["train"]}
        base = {"train": {"eval_every": 0}}
        if not any(given.get(k) for k in ("max_steps", "max_epochs", "max_minutes")):
            base["train"]["max_epochs"] = DEFAULT_EPOCHS
        cfg = compose(args, base, spec.defaults())
        if "monitor" not in given:  # the best checkpoint: the most accurate, or the lowest error for regression
            regress = getattr(cfg["model"], "task", "") == "regress"
            cfg["train"] = dataclasses.replace(cfg["train"], monitor="val_loss" if regress else "val_acc")
        cfg["data"].validate()
        cfg["train"].validate()
        held_out = {k: str(Path(v).resolve()) for k in ("valid", "test") if (v := getattr(cfg["data"], k))}
        cfg["data"] = dataclasses.replace(cfg["data"], **held_out)
        sources = [str(Path(s).resolve()) for s in args.data]
        run_dir = new_run_dir(args.run_dir, f"{Path(args.data[0]).stem}-{spec.name}")
    device = resolve_device(cfg["train"].device)
    seed_everything(cfg["train"].seed)
    built = spec.build(cfg, sources, device)
    if args.resume and built.meta["vocab"] != meta["vocab"]:
        raise ValueError(
            f"resume: the vocabulary built from {', '.join(sources)} differs from the checkpoint's; expected the "
            "same training data"
        )
    trainer = Trainer(
        built.model, built.task, cfg["train"], run_dir, built.meta, log=log, progress=not args.no_progress
    )
    if args.resume:
        trainer.resume()
        log(f"resuming {run_dir} at step {trainer.step} (epoch {trainer.epoch})")
    else:
        log(f"{built.description} on {device}; run directory {run_dir}")
    summary = trainer.fit()
    log(
        f"stopped: {summary['stopped']} at step {summary['step']}; best {cfg['train'].monitor} "
        f"{summary['best_val_loss']:.4f}; checkpoints in {run_dir}"
    )
    built.report(run_dir, log)
    return 0


def resolved(cfg: dict, model_cfg, sources: list[str], task: str) -> dict:
    """The configuration stored in config.json and every checkpoint."""
    return {
        "data": dataclasses.asdict(cfg["data"]),
        "model": dataclasses.asdict(model_cfg),
        "train": dataclasses.asdict(cfg["train"]),
        "source": list(sources),
        "task": task,
    }
