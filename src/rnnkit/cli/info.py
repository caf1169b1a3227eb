"""``rnnkit info RUN``: one run's configuration, data, metrics and files.

rnnkit info runs/alice                      # a run directory (its latest checkpoint)
rnnkit info runs/alice/best.safetensors     # one checkpoint (the metrics of its directory)
rnnkit info runs/alice --json

Shows the resolved configuration ([data], [model], [train]), the data it was trained on (the
source files with their sizes and sha256 digests, the vocabulary), where its weights started from
when it was fine-tuned, a summary of metrics.jsonl (steps, epochs, best and last evaluation, train
time, throughput) and the files of the run. Read from the checkpoint's header only: the weights
are never loaded.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
from pathlib import Path
from typing import TYPE_CHECKING

from rnnkit.cli.runs import CHECKPOINTS, clean, finite, human_size, model_text, read_run_meta, to_json
from rnnkit.config import monitor_mode

if TYPE_CHECKING:  # imported where a header is read, so that `rnnkit info --help` needs no torch
    from rnnkit.tasks.meta import RunMeta

#: what the trainer's throughput (tokens_per_s in metrics.jsonl) counts, by task
UNITS = {"lm": "tokens/s", "classify": "examples/s", "tag": "tokens/s"}


def add_parser(sub) -> None:
    p = sub.add_parser(
        "info",
        help="one run: its configuration, data, metrics and files",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("run_path", metavar="RUN", help="a run directory or a .safetensors checkpoint")
    p.add_argument("--json", action="store_true", help="print everything as one JSON object")
    p.set_defaults(run=run_info)


def run_info(args) -> int:
    info = describe(Path(args.run_path))
    if args.json:
        print(to_json(info))
    else:
        print_info(info)
    return 0


def describe(path: Path) -> dict:
    """Everything ``rnnkit info`` shows about the run (directory or checkpoint) at ``path``, as plain data."""
    from rnnkit.checkpoint import read_header

    checkpoint, run_dir = _checkpoint_of(path)
    meta, created = read_run_meta(checkpoint)
    header = read_header(checkpoint)
    parameters = sum(math.prod(shape) for _, shape in header.model.values())
    config, trainer = meta.config, meta.trainer
    raw = read_meta_extras(header.meta)
    return {
        "run": str(run_dir),
        "checkpoint": str(checkpoint),
        "written": created,
        "task": meta.task,
        "model": {"text": model_text(meta.model_config), "parameters": parameters, "kind": meta.model_kind},
        "config": {s: config[s] for s in ("data", "model", "train") if isinstance(config.get(s), dict)},
        "data": data_summary(meta),
        "init_from": raw.get("init_from"),
        "trainer": {k: trainer.get(k) for k in ("step", "epoch", "monitor")}
        | {"best_score": finite(trainer.get("best_score"))},
        "metrics": metrics_summary(run_dir / "metrics.jsonl", trainer.get("monitor", "val_loss"), meta.task),
        "files": [{"name": p.name, "size_bytes": p.stat().st_size} for p in _files(run_dir)],
    }


def read_meta_extras(meta: dict) -> dict:
    """``init_from`` (written by fine-tuning runs), from the metadata itself or its run configuration."""
    config = meta.get("config") if isinstance(meta.get("config"), dict) else {}
    value = meta.get("init_from", config.get("init_from"))
    return {} if value is None else {"init_from": value}


def data_summary(meta: RunMeta) -> dict:
    """The training data: source files (size, sha256 when stored), held-out files, vocabulary and unit."""
    from rnnkit.data import vocab_from_dict

    config = meta.config
    data = config.get("data") if isinstance(config.get("data"), dict) else {}
    digests = {d["path"]: d for d in config.get("source_digests", [])}
    sources = [digests.get(s, {"path": s}) for s in config.get("source", [])]
    held_out = {k: data[k] for k in ("valid", "test") if isinstance(data.get(k), str) and data[k]}
    unit = data.get("tokens", "word") if meta.task != "tag" else "word"
    return {"sources": sources, **held_out, "vocab_size": len(vocab_from_dict(meta.vocab)), "unit": clean(unit)}


def metrics_summary(path: Path, monitor: str, task: str) -> dict:
    """Steps, epochs, best and last evaluation, train time and throughput from metrics.jsonl ({} if none)."""
    records = read_records(path)
    if not records:
        return {}
    train = [r for r in records if r.get("kind") == "train"]
    evals = [r for r in records if r.get("kind") == "eval" and _number(r.get(monitor))]
    higher = monitor_mode(monitor) == "max"
    best = (max if higher else min)(evals, key=lambda r: r[monitor]) if evals else None
    speeds = [r["tokens_per_s"] for r in train if _number(r.get("tokens_per_s"))]
    last = records[-1]
    return {
        "records": len(records),
        "steps": last.get("step"),
        "epochs": last.get("epoch"),
        "best_eval": best,
        "last_eval": evals[-1] if evals else None,
        "train_seconds": train_seconds(records),
        "throughput": statistics.median(speeds) if speeds else None,
        "throughput_unit": UNITS.get(task, "units/s"),
    }


def read_records(path: Path) -> list[dict]:
    """The records of a metrics.jsonl; lines that are not JSON objects with a step are skipped."""
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return []
    records = []
    for line in lines:
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict) and _number(record.get("step")):
            records.append(record)
    return records


def train_seconds(records: list[dict]) -> float:
    """Wall time over every segment of the run (elapsed_s restarts from 0 on each --resume)."""
    total, segment = 0.0, 0.0
    for r in records:
        elapsed = r.get("elapsed_s")
        if not _number(elapsed):
            continue
        if elapsed < segment:  # a resumed segment began
            total += segment
        segment = elapsed
    return total + segment


def print_info(info: dict) -> None:
    model, trainer = info["model"], info["trainer"]
    best = "" if trainer["best_score"] is None else f", best {trainer['monitor']} {trainer['best_score']:.4f}"
    print(f"run         {info['run']}")
    print(f"checkpoint  {info['checkpoint']} (step {trainer['step']}{best}; written {info['written'] or '?'})")
    print(f"task        {clean(info['task'])}: {model['text']}, {model['parameters']:,} parameters")
    if info["init_from"] is not None:
        print(f"init from   {_text(info['init_from'])}")
    data = info["data"]
    print(f"vocabulary  {data['vocab_size']:,} {data['unit']} tokens")
    for source in data["sources"]:
        digest = f"  {source['size']:,} bytes  sha256 {source['sha256'][:16]}" if "sha256" in source else ""
        print(f"data        {clean(source['path'], 200)}{digest}")
    for split in ("valid", "test"):
        if split in data:
            print(f"{split:<11} {clean(data[split], 200)}")
    print_metrics(info["metrics"])
    for section, table in info["config"].items():
        print_table(section, table)
    print("\n[files]")
    for f in info["files"]:
        print(f"{human_size(f['size_bytes']):>9}  {clean(f['name'], 200)}")


def print_metrics(m: dict) -> None:
    if not m:
        print("metrics     none (no metrics.jsonl)")
        return
    print(f"metrics     {m['records']} record{'s' * (m['records'] != 1)}, step {m['steps']}, epoch {_num(m['epochs'])}")
    for name in ("best_eval", "last_eval"):
        record = m[name]
        if record is not None:
            values = ", ".join(f"{k} {_num(v)}" for k, v in record.items() if k.startswith("val_"))
            print(f"{name.replace('_eval', ' eval'):<11} step {record.get('step')}: {clean(values, 200)}")
    speed = "" if m["throughput"] is None else f", median {m['throughput']:,.0f} {m['throughput_unit']}"
    print(f"train time  {_duration(m['train_seconds'])}{speed}")


def print_table(section: str, table: dict) -> None:
    """A config table the way TOML writes it: scalars first, nested tables as [section.key]."""
    print(f"\n[{section}]")
    nested = {k: v for k, v in table.items() if isinstance(v, dict)}
    for key, value in table.items():
        if key not in nested:
            print(f"{clean(key)} = {clean(json.dumps(value, default=str), 200)}")
    for key, value in nested.items():
        print_table(f"{section}.{key}", value)


def _checkpoint_of(path: Path) -> tuple[Path, Path]:
    """(the checkpoint to read, its run directory) for a run directory or a checkpoint file."""
    if path.is_dir():
        found = next((path / n for n in CHECKPOINTS if (path / n).is_file()), None)
        if found is None:
            raise ValueError(
                f"info: {path} holds no checkpoint; expected a run directory with {' or '.join(CHECKPOINTS)}"
            )
        return found, path
    if not path.is_file():
        raise ValueError(f"info: no such run directory or checkpoint: {path}")
    return path, path.parent


def _files(run_dir: Path) -> list[Path]:
    return sorted(p for p in run_dir.iterdir() if p.is_file() and not p.is_symlink())


def _number(value) -> bool:
    return type(value) in (int, float) and math.isfinite(value)


def _num(value) -> str:
    return f"{value:.4g}" if isinstance(value, float) else clean(value)


def _text(value) -> str:
    if isinstance(value, dict):
        return clean(", ".join(f"{k} {v}" for k, v in value.items()), 300)
    return clean(value, 300)


def _duration(seconds: float) -> str:
    minutes, s = divmod(int(round(seconds)), 60)
    return f"{minutes // 60}:{minutes % 60:02d}:{s:02d}" if minutes >= 60 else f"{minutes}:{s:02d}"
