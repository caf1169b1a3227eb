"""The run's metrics: appended to metrics.jsonl as they come, and drawn as a PNG.

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


def plot_curves(records: list[dict], path: Path, title: str = "") -> None:
    """Loss (train and validation) against step, and the gradient norm with clipped steps marked."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    train = [r for r in records if r.get("kind") == "train"]
    evals = [r for r in records if r.get("kind") == "eval" and "val_loss" in r]
    fig, (ax_loss, ax_norm) = plt.subplots(2, 1, figsize=(8, 6), sharex=True, gridspec_kw={"height_ratios": [2, 1]})
    if train:
        ax_loss.plot([r["step"] for r in train], [r["train_loss"] for r in train], label="train", lw=1)
    if evals:
        ax_loss.plot([r["step"] for r in evals], [r["val_loss"] for r in evals], "o-", label="validation", lw=1.5)
    ax_loss.set_ylabel("loss (nats / token)")
    if train or evals:  # a run stopped before its first record has nothing to label
        ax_loss.legend()
    ax_loss.grid(alpha=0.3)
    ax_loss.set_title(title or "training curves")
    norms, what = _step_norms(train), "gradient norm per step"
    if not norms:  # records from before per-step norms were logged: one value per log interval
        norms = [
            (r["step"], r["grad_norm"], r.get("clipped", 0))
            for r in train
            if math.isfinite(r.get("grad_norm", math.nan))
        ]
        what = "gradient norm (max over log interval)"
    if norms:
        steps, values, clipped = zip(*norms)
        ax_norm.plot(steps, values, lw=1, label=what)
        marked = [(s, v) for s, v, c in norms if c]
        if marked:
            ax_norm.scatter(*zip(*marked), s=8, c="tab:red", label="clipped", zorder=3)
        ax_norm.set_yscale("log")
        ax_norm.legend(fontsize=8)
    ax_norm.set_xlabel("step")
    ax_norm.grid(alpha=0.3)
    fig.tight_layout()
    write_figure(fig, path, dpi=90)  # atomic; its old temp name curves.tmp.png was shared by concurrent runs


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
