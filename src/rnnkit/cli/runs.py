"""``rnnkit runs [DIR]``: the run directories under DIR (default runs/), one line each.

rnnkit runs                 # run, task, model, steps, best metric, size on disk, date
rnnkit runs experiments/ --json

Each run is read from its checkpoint's header only (``rnnkit.checkpoint.read_meta``: the weights are
never loaded). A checkpoint is untrusted input: one that cannot be read is listed as "unreadable",
with the reason in --json. Sorted by date, the newest last.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # imported where a header is read, so that `rnnkit runs --help` needs no torch
    from rnnkit.tasks.meta import RunMeta

CHECKPOINTS = ("latest.safetensors", "best.safetensors")  # the first that exists describes the run
#: what reading an untrusted header may raise (CheckpointError is a ValueError)
UNREADABLE = (ValueError, OSError, TypeError, KeyError, AttributeError, RecursionError)
COLUMNS = ("run", "task", "model", "steps", "best", "size", "date")


@dataclass
class RunRow:
    """One run of the table (``--json`` prints these fields)."""

    run: str
    path: str
    task: str = ""
    model: str = ""
    steps: int | None = None
    monitor: str = ""
    best: float | None = None
    size_bytes: int = 0
    date: str = ""  # ISO 8601, UTC: when the checkpoint read was written
    error: str = ""  # why the run is unreadable ("" when it is not)


def add_parser(sub) -> None:
    p = sub.add_parser(
        "runs",
        help="list the runs under a directory (default runs/): task, model, steps, best, size",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("dir", nargs="?", default="runs", help="a directory of run directories (default runs)")
    p.add_argument("--json", action="store_true", help="print the runs as a JSON list")
    p.set_defaults(run=run_runs)


def run_runs(args) -> int:
    root = Path(args.dir)
    if not root.is_dir():
        raise ValueError(f"runs: {root} is not a directory; expected a directory of runs (rnnkit train --run-dir)")
    rows = sorted((read_row(d) for d in run_dirs(root)), key=lambda r: (r.date, r.run))
    if args.json:
        print(to_json([asdict(r) for r in rows]))
    elif not rows:
        print(f"no runs in {root}", file=sys.stderr)
    else:
        print_table(rows)
    return 0


def run_dirs(root: Path) -> list[Path]:
    """``root`` itself if it is a run, else its sub-directories that hold a checkpoint or metrics."""
    if _is_run(root):
        return [root]
    return [d for d in sorted(root.iterdir()) if d.is_dir() and not d.is_symlink() and _is_run(d)]


def _is_run(d: Path) -> bool:
    return any((d / name).is_file() for name in (*CHECKPOINTS, "metrics.jsonl", "config.json"))


def read_row(run_dir: Path) -> RunRow:
    """The row of one run directory; a checkpoint that cannot be read gives a row with ``error`` set."""
    row = RunRow(run=run_dir.name, path=str(run_dir), size_bytes=disk_size(run_dir))
    checkpoint = next((run_dir / n for n in CHECKPOINTS if (run_dir / n).is_file()), None)
    if checkpoint is None:
        row.error, row.date = "no checkpoint", _mtime(run_dir)
        return row
    try:
        meta, created = read_run_meta(checkpoint)
        trainer = meta.trainer
        row.task, row.model = clean(meta.task), model_text(meta.model_config)
        row.steps, row.monitor = trainer.get("step"), clean(trainer.get("monitor", ""))
        row.best, row.date = finite(trainer.get("best_score")), created or _mtime(checkpoint)
    except UNREADABLE as e:
        row.error, row.date = clean(str(e).splitlines()[0] if str(e) else type(e).__name__, 300), _mtime(checkpoint)
    return row


def read_run_meta(checkpoint: Path) -> tuple[RunMeta, str]:
    """(the checked metadata, when the file was written) from a checkpoint's header alone."""
    from rnnkit.checkpoint import read_meta
    from rnnkit.checkpoint.container import read_document
    from rnnkit.tasks.meta import RunMeta

    created = read_document(checkpoint).get("created", "")
    meta = RunMeta.from_dict(read_meta(checkpoint), checkpoint)
    return meta, created if isinstance(created, str) else ""


def model_text(model_config) -> str:
    """ "2x256 lstm" ("2x128 bi-gru" for a bidirectional stack; "1x256 bi-lstm>1x256 lstm" for an
    encoder-decoder) from a stored model config."""
    config = model_config if isinstance(model_config, dict) else {}
    if isinstance(config.get("encoder"), dict) and isinstance(config.get("decoder"), dict):
        return f"{_stack_text(config['encoder'])}>{_stack_text(config['decoder'])}"
    return _stack_text(config.get("rnn", config))


def _stack_text(rnn) -> str:
    rnn = rnn if isinstance(rnn, dict) else {}
    bi = "bi-" if rnn.get("bidirectional") is True else ""
    return clean(f"{rnn.get('num_layers', '?')}x{rnn.get('hidden_size', '?')} {bi}{rnn.get('cell', '?')}")


def print_table(rows: list[RunRow]) -> None:
    cells = [COLUMNS] + [
        (
            r.run,
            r.task or "-",
            "unreadable" if r.error and r.error != "no checkpoint" else (r.model or r.error),
            "-" if r.steps is None else f"{r.steps:,}",
            best_text(r),
            human_size(r.size_bytes),
            r.date[:16].replace("T", " "),
        )
        for r in rows
    ]
    widths = [max(len(row[i]) for row in cells) for i in range(len(COLUMNS))]
    right = {"steps", "size"}
    for row in cells:
        line = "  ".join(
            v.rjust(w) if name in right else v.ljust(w) for v, w, name in zip(row, widths, COLUMNS, strict=True)
        )
        print(line.rstrip())


def best_text(r: RunRow) -> str:
    return "-" if r.best is None else f"{r.monitor} {r.best:.4f}"


def disk_size(d: Path) -> int:
    """Bytes of the files under ``d`` (symbolic links not followed)."""
    total = 0
    for p in d.rglob("*"):
        try:
            if p.is_file() and not p.is_symlink():
                total += p.stat().st_size
        except OSError:
            continue
    return total


def human_size(n: int) -> str:
    """ "812 B", "42.5 KB", "1.3 MB", "2.0 GB" (powers of 1000)."""
    if n < 1000:
        return f"{n} B"
    exponent = min(3, (len(str(int(n))) - 1) // 3)
    return f"{n / 1000**exponent:.1f} {('KB', 'MB', 'GB')[exponent - 1]}"


def finite(value) -> float | None:
    """A stored score as a float, or None (absent, not a number, inf, nan)."""
    if type(value) not in (int, float) or value != value or value in (float("inf"), float("-inf")):
        return None
    return float(value)


def to_json(value) -> str:
    """Strict JSON of plain data: a float that is not finite becomes null, anything else unknown a string."""
    return json.dumps(_finite_only(value), indent=2, allow_nan=False, default=str, ensure_ascii=False)


def _finite_only(value):
    if isinstance(value, float):
        return value if value == value and value not in (float("inf"), float("-inf")) else None
    if isinstance(value, dict):
        return {str(k): _finite_only(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite_only(v) for v in value]
    return value


def clean(text, limit: int = 60) -> str:
    """Untrusted text made safe for one terminal cell: printable characters only, at most ``limit``."""
    text = "".join(c if c.isprintable() else "?" for c in str(text))
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _mtime(p: Path) -> str:
    try:
        return datetime.fromtimestamp(p.stat().st_mtime, UTC).isoformat(timespec="seconds")
    except OSError:
        return ""
