"""The run's metrics: appended to metrics.jsonl as they come, and drawn as a PNG (curves.png: loss,
validation accuracy for tasks that report one, the gradient norm).

metrics.jsonl is written without ever following a symlink: when the log is opened it is rewritten
atomically (rnnkit.checkpoint.atomic: a temp file and os.replace, which replaces a link planted at
that name instead of writing through it), and every record after that is ONE os.write of a whole
line to a descriptor opened with O_APPEND | O_NOFOLLOW (a link planted meanwhile fails the open:
ELOOP, never a write to its target). Appends rather than an atomic rewrite per record, because a
rewrite would cost O(records) per record, O(n^2) over a long run; a run directory's lock
(rnnkit.train.lock) keeps a second writer out, so lines never interleave, and a line cut by a kill
is skipped when the log is read back. A symlink found at metrics.jsonl is not read either.
"""

from __future__ import annotations

import errno
import json
import math
import os
import stat
from pathlib import Path

from rnnkit.checkpoint.atomic import atomic_write, write_figure

_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)


class MetricsLog:
    """One JSON object per line: {"kind": "train"|"eval", "step": ..., ...}. Appending keeps every
    record of a resumed run; records past the resume step (written after the checkpoint a run
    resumed from) are dropped so the log describes exactly one history."""

    def __init__(self, path: Path, resume_step: int | None = None):
        self.path = Path(path)
        self.records: list[dict] = []
        for line in _read_own(self.path).splitlines():
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                continue  # a line cut by a kill
            if resume_step is None or record.get("step", 0) <= resume_step:
                self.records.append(record)
        atomic_write(self.path, "".join(json.dumps(r) + "\n" for r in self.records))

    def append(self, record: dict) -> None:
        self.records.append(record)
        line = (json.dumps(record) + "\n").encode("utf-8")
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | _NOFOLLOW, 0o644)
        try:
            written = os.write(fd, line)
            if written != len(line):  # a full disk can cut a write short without an error
                raise OSError(errno.ENOSPC, "No space left on device (a short write)", str(self.path))
        finally:
            os.close(fd)


def _read_own(path: Path) -> str:
    """The text of `path` if it is a regular file; "" if absent, or a symlink, a FIFO, a device
    (not ours: never read through, never waited on; the atomic rewrite replaces it)."""
    try:
        fd = os.open(path, os.O_RDONLY | _NOFOLLOW | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        return ""
    except OSError as e:
        if e.errno == errno.ELOOP:
            return ""
        raise
    with os.fdopen(fd, "rb") as f:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return ""
        return f.read().decode("utf-8", errors="replace")


#: Up to this many steps, the gradient-norm panel draws every step; above it, per window of steps
#: (about NORM_WINDOWS of them) the median, the 10th-90th percentile band and the min-max band.
NORM_POINTS = 400
NORM_WINDOWS = 200


def accuracy_metrics(evals: list[dict]) -> list[str]:
    """The accuracy-like validation metrics in evaluation records (val_acc, val_f1, ...), in order."""
    names = dict.fromkeys(k for r in evals for k in r if k.startswith("val_") and k.endswith(("acc", "accuracy", "f1")))
    return list(names)


def plot_curves(records: list[dict], path: Path, title: str = ""):
    """Loss (train and validation) against step; validation accuracy when the task reports one
    (classifiers, taggers); the gradient norm with clipped steps marked. Returns the (closed)
    matplotlib Figure: its axes hold what was drawn."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    train = [r for r in records if r.get("kind") == "train"]
    evals = [r for r in records if r.get("kind") == "eval" and "val_loss" in r]
    accuracies = accuracy_metrics(evals)
    ratios = [2, 1, 1] if accuracies else [2, 1]
    fig, axes = plt.subplots(
        len(ratios), 1, figsize=(8, 2.2 * sum(ratios)), sharex=True, gridspec_kw={"height_ratios": ratios}
    )
    ax_loss, ax_norm = axes[0], axes[-1]
    if train:
        ax_loss.plot([r["step"] for r in train], [r["train_loss"] for r in train], label="train", lw=1)
    if evals:
        ax_loss.plot([r["step"] for r in evals], [r["val_loss"] for r in evals], "o-", label="validation", lw=1.5)
    ax_loss.set_ylabel("loss (nats / token)")
    if train or evals:  # a run stopped before its first record has nothing to label
        ax_loss.legend()
    ax_loss.grid(alpha=0.3)
    ax_loss.set_title(title or "training curves")
    if accuracies:
        ax_acc = axes[1]
        for name in accuracies:
            points = [(r["step"], 100 * r[name]) for r in evals if name in r]
            label = "validation accuracy" if name == "val_acc" else name.replace("val_", "validation ")
            ax_acc.plot(*zip(*points), "o-", lw=1.5, label=label)
        low, high = ax_acc.get_ylim()
        ax_acc.set_ylim(max(low, 0.0), min(high, 100.5))  # a percentage: no axis past 100
        ax_acc.set_ylabel("accuracy (%)")
        ax_acc.legend(fontsize=8)
        ax_acc.grid(alpha=0.3)
    _plot_norms(ax_norm, train)
    ax_norm.set_xlabel("step")
    ax_norm.grid(alpha=0.3)
    fig.tight_layout()
    write_figure(fig, path, dpi=90)  # atomic; its old temp name curves.tmp.png was shared by concurrent runs
    return fig


def _plot_norms(ax, train: list[dict]) -> None:
    """Every step's gradient norm (a running median and its spread over long runs), clipped steps in red."""
    import numpy as np

    norms, what = _step_norms(train), "gradient norm per step"
    if not norms:  # records from before per-step norms were logged: one value per log interval
        norms = [
            (r["step"], r["grad_norm"], r.get("clipped", 0))
            for r in train
            if math.isfinite(r.get("grad_norm", math.nan))
        ]
        what = "gradient norm (max over log interval)"
    if not norms:
        return
    if len(norms) <= NORM_POINTS:
        steps, values, _ = zip(*norms)
        ax.plot(steps, values, lw=1, label=what)
        marked = [(s, v) for s, v, c in norms if c]
        marked_label = "clipped"
    else:  # thousands of points would be a solid band: summarise windows of steps
        size = math.ceil(len(norms) / NORM_WINDOWS)
        windows = [norms[i : i + size] for i in range(0, len(norms), size)]
        centre = [np.mean([s for s, _, _ in w]) for w in windows]
        values = [np.array([v for _, v, _ in w]) for w in windows]
        low, p10, median, p90, high = ([np.percentile(v, q) for v in values] for q in (0, 10, 50, 90, 100))
        ax.fill_between(centre, low, high, alpha=0.12, color="tab:blue", lw=0, label="min-max")
        ax.fill_between(centre, p10, p90, alpha=0.3, color="tab:blue", lw=0, label="10th-90th percentile")
        ax.plot(centre, median, lw=1, color="tab:blue", label=f"{what}: median of {size} steps")
        marked = [(c, h) for c, h, w in zip(centre, high, windows) if any(clip for _, _, clip in w)]
        marked_label = "windows with clipped steps"
    if marked:
        ax.scatter(*zip(*marked), s=8, c="tab:red", label=marked_label, zorder=3)
    ax.set_yscale("log")
    ax.legend(fontsize=8)


def _step_norms(train: list[dict]) -> list[tuple[int, float, bool]]:
    """(step, global gradient norm before clipping, clipped) for every step, from the records'
    "grad_norms" (the steps of each log interval, ending at the record's step) and "clipped_steps"."""
    out = []
    for r in train:
        values = r.get("grad_norms")
        if not values:
            return []
        clipped = set(r.get("clipped_steps", ()))
        first = r["step"] - len(values) + 1
        out += [(first + i, v, first + i in clipped) for i, v in enumerate(values) if math.isfinite(v)]
    return out
