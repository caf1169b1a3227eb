"""The run's metrics: appended to metrics.jsonl as they come, and drawn as a PNG."""

from __future__ import annotations

import json
import math
from pathlib import Path


class MetricsLog:
    """One JSON object per line: {"kind": "train"|"eval", "step": ..., ...}. Appending keeps every
    record of a resumed run; records past the resume step (written after the checkpoint a run
    resumed from) are dropped so the log describes exactly one history."""

    def __init__(self, path: Path, resume_step: int | None = None):
        self.path = Path(path)
        self.records: list[dict] = []
        if self.path.exists():
            for line in self.path.read_text().splitlines():
                try:
                    record = json.loads(line)
                except json.JSONDecodeError:
                    continue  # a line cut by a kill
                if resume_step is None or record.get("step", 0) <= resume_step:
                    self.records.append(record)
            self.path.write_text("".join(json.dumps(r) + "\n" for r in self.records))

    def append(self, record: dict) -> None:
        self.records.append(record)
        with self.path.open("a") as f:
            f.write(json.dumps(record) + "\n")


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
    tmp = Path(path).with_suffix(".tmp.png")
    fig.savefig(tmp, dpi=90)
    plt.close(fig)
    tmp.replace(path)


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
