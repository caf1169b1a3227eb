"""How far back can each cell remember? Train it on a memory task at each lag, on a time budget.

For every (cell, lag) a fresh ``SequenceClassifier`` trains on freshly generated batches (no data
set to overfit), clipped Adam, until the budget runs out or the task is solved on a validation set
(checked every ``eval_every`` steps). The reported metric is on a separate test set, with the weights
that did best on validation. The lag at which a cell stops solving the task, or stops beating the
baseline, is the result: nothing here is tuned per cell or lag.
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch

from rnnkit.checkpoint import save_checkpoint
from rnnkit.checkpoint.atomic import write_figure
from rnnkit.config import check_fits, is_real
from rnnkit.diagnostics.gradient_flow import cell_colour
from rnnkit.diagnostics.memory_tasks import MemoryTask
from rnnkit.layers import RecurrentConfig
from rnnkit.layers.config import TRAINING_COPIES
from rnnkit.models import SequenceClassifier
from rnnkit.models.evaluating import evaluating
from rnnkit.train import TrainConfig, clip_gradients, make_optimizer

#: Lowest score drawn: a run far worse than the baseline would otherwise squash every other line.
_FLOOR = -0.25
#: An upper bound of the memory tasks' input features per step (the recall task's one-hot symbols).
_MAX_FEATURES = 16


@dataclass
class BenchConfig:
    """Training settings shared by every cell and lag."""

    # 64 units: cheap enough per step that a 10-minute CPU budget is tens of thousands of steps.
    hidden_size: int = 64
    batch_size: int = 64
    lr: float = 1e-3
    clip: float = 1.0  # global gradient norm
    eval_every: int = 50  # steps between validation checks
    # Validation stops a run once it beats the "solved" bar with this margin (error < margin x bar),
    # so that the larger test set, measured afterwards, passes it too.
    stop_margin: float = 0.5
    val_size: int = 500
    test_size: int = 2000
    seed: int = 1234
    backend: str = "auto"
    device: str = "cpu"

    def validate(self) -> BenchConfig:
        for name in ("hidden_size", "batch_size", "eval_every", "val_size", "test_size"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"bench: expected {name} to be a positive integer, got {value!r}")
        for name in ("lr", "clip", "stop_margin"):
            if not is_real(getattr(self, name)) or not getattr(self, name) > 0:
                raise ValueError(f"bench: expected {name} > 0 and finite, got {getattr(self, name)!r}")
        return self

    def check_fits(self, cells: list[str], lags: list[int]) -> None:
        """Refuse lags or sizes whose data and activations (the largest set evaluated at once, over the
        longest sequence) cannot fit in memory, before anything is generated or allocated."""
        T, B = max(lags) + 2, max(self.batch_size, self.val_size, self.test_size)
        for cell in cells:
            rnn = RecurrentConfig(cell=cell, input_size=_MAX_FEATURES, hidden_size=self.hidden_size)
            nbytes = 4 * (rnn.activation_count(B, T) + B * T * _MAX_FEATURES + TRAINING_COPIES * rnn.parameter_count())
            check_fits(
                nbytes, "bench: data and activations", f"cell {cell}, lag {max(lags)}, hidden_size {self.hidden_size}"
            )


@dataclass
class RunResult:
    """One (task, cell, lag) run. ``metrics`` are on the test set: {mse or accuracy, score, solved,
    beats_baseline}; ``history`` holds (step, seconds, validation metric) at every check."""

    task: str
    cell: str
    lag: int
    steps: int
    seconds: float
    metrics: dict[str, float]
    solved_after_s: float | None = None  # wall time when validation first met the "solved" bar (with margin)
    history: list[tuple[int, float, float]] = field(default_factory=list)

    @property
    def solved(self) -> bool:
        return bool(self.metrics["solved"])

    @property
    def beats_baseline(self) -> bool:
        return bool(self.metrics["beats_baseline"])


def train_on_task(
    task: MemoryTask,
    cell: str,
    lag: int,
    minutes: float,
    config: BenchConfig | None = None,
    max_steps: int = 0,
    stop_when_solved: bool = True,
) -> tuple[RunResult, SequenceClassifier]:
    """Train one fresh model on ``task`` at ``lag`` for ``minutes`` of wall time (and at most
    ``max_steps`` steps if > 0). Returns the result and the model with its best validation weights."""
    cfg = (config or BenchConfig()).validate()
    if not minutes > 0 and not max_steps:
        raise ValueError(f"bench: expected a budget (minutes > 0 or max_steps), got minutes={minutes!r}")
    device = torch.device(cfg.device)
    torch.manual_seed(cfg.seed)
    model = SequenceClassifier(task.model_config(cell, cfg.hidden_size, backend=cfg.backend)).to(device)
    train_cfg = TrainConfig(lr=cfg.lr, clip=cfg.clip, clip_mode="norm")
    optimizer = make_optimizer(model.parameters(), train_cfg)
    # Separate streams: the training batches do not depend on how often validation runs.
    data = torch.Generator().manual_seed(cfg.seed)
    val = task.batch(cfg.val_size, lag, torch.Generator().manual_seed(cfg.seed + 1))
    test = task.batch(cfg.test_size, lag, torch.Generator().manual_seed(cfg.seed + 2))

    started = time.perf_counter()
    step, best_score, best_state, solved_at, history = 0, -math.inf, None, None, []
    while True:
        elapsed = time.perf_counter() - started
        out_of_budget = (minutes > 0 and elapsed >= 60 * minutes) or (max_steps and step >= max_steps)
        if step % cfg.eval_every == 0 or out_of_budget:
            metrics = evaluate(model, task, val, device, margin=cfg.stop_margin)
            history.append((step, elapsed, metrics[task.metric]))
            if metrics["score"] > best_score:
                best_score, best_state = metrics["score"], copy.deepcopy(model.state_dict())
            if metrics["solved"] and solved_at is None:
                solved_at = elapsed
                if stop_when_solved:
                    break
            if out_of_budget:
                break
        model.train()
        x, y = task.batch(cfg.batch_size, lag, data)
        _, loss, _ = model(model.batch_type(x.to(device), y.to(device)))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        norm, _ = clip_gradients(model, train_cfg)
        if math.isfinite(norm):  # a non-finite step is skipped rather than poisoning the weights
            optimizer.step()
        step += 1
    if best_state is not None:
        model.load_state_dict(best_state)
    result = RunResult(
        task=task.name,
        cell=cell,
        lag=lag,
        steps=step,
        seconds=time.perf_counter() - started,
        metrics=evaluate(model, task, test, device),
        solved_after_s=solved_at,
        history=history,
    )
    return result, model


@torch.no_grad()
def evaluate(model, task: MemoryTask, batch, device, margin: float = 1.0, chunk: int = 1000) -> dict[str, float]:
    """The task's metrics of ``model`` on a fixed (inputs, targets) set (``margin``: see MemoryTask.evaluate)."""
    with evaluating(model):
        inputs, targets = batch
        outs = [
            model(model.batch_type(inputs[i : i + chunk].to(device)))[0].cpu() for i in range(0, len(inputs), chunk)
        ]
    return task.evaluate(torch.cat(outs), targets, margin)


def run_benchmark(
    task: MemoryTask,
    cells: list[str],
    lags: list[int],
    minutes: float,
    config: BenchConfig | None = None,
    save_dir: Path | None = None,
    on_result: Callable[[RunResult], None] = lambda result: None,
) -> list[RunResult]:
    """Every cell at every lag, one after another; ``on_result`` sees each result as it comes.
    With ``save_dir``, each trained model is saved as ``{task}-{cell}-T{lag}.safetensors`` (with
    its task in the metadata, so ``rnnkit diagnose`` can measure its gradient flow)."""
    cfg = (config or BenchConfig()).validate()
    results = []
    for cell in cells:
        for lag in lags:
            result, model = train_on_task(task, cell, lag, minutes, cfg)
            if save_dir is not None:
                meta = {
                    "model": {"kind": model.kind, "config": model.config_dict()},
                    "memory_task": {**asdict(task), "lag": lag},
                    "result": {k: v for k, v in asdict(result).items() if k != "history"},
                }
                save_checkpoint(Path(save_dir) / f"{task.name}-{cell}-T{lag}", model.state_dict(), meta, rng=False)
            results.append(result)
            on_result(result)
    return results


def results_table(results: list[RunResult]) -> str:
    """A fixed-width table: one row per run. "early stop": when validation met the solved bar (with
    the stop margin) and the run ended before its budget."""
    if not results:
        return ""
    metric = "mse" if results[0].task == "adding" else "accuracy"
    head = f"{'cell':<5} {'lag':>5} {'test ' + metric:>10} {'score':>6} {'solved':>7} {'> baseline':>10} "
    head += f"{'steps':>7} {'seconds':>8} {'early stop':>10}"
    lines = [head, "-" * len(head)]
    for r in results:
        at = "" if r.solved_after_s is None else f"{r.solved_after_s:.0f} s"
        lines.append(
            f"{r.cell:<5} {r.lag:>5} {r.metrics[metric]:>10.4f} {r.metrics['score']:>6.2f} "
            f"{'yes' if r.solved else 'no':>7} {'yes' if r.beats_baseline else 'no':>10} {r.steps:>7} "
            f"{r.seconds:>8.1f} {at:>10}"
        )
    return "\n".join(lines)


def longest_lags(results: list[RunResult]) -> dict[str, dict[str, int | None]]:
    """Per cell: the longest lag it solved and the longest at which it beat the baseline (None: none)."""
    out: dict[str, dict[str, int | None]] = {}
    for r in results:
        entry = out.setdefault(r.cell, {"solved": None, "beats_baseline": None})
        for key, ok in (("solved", r.solved), ("beats_baseline", r.beats_baseline)):
            if ok and (entry[key] is None or r.lag > entry[key]):
                entry[key] = r.lag
    return out


def plot_results(results: list[RunResult], path, title: str = "") -> Path:
    """Score (0 = baseline, 1 = perfect) against lag, one line per cell; solved runs filled."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path = Path(path)
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for cell in dict.fromkeys(r.cell for r in results):
        runs = sorted((r for r in results if r.cell == cell), key=lambda r: r.lag)
        lags = [r.lag for r in runs]
        scores = [max(r.metrics["score"], _FLOOR) for r in runs]  # far below the baseline: drawn at the floor
        colour = cell_colour(cell)
        ax.plot(lags, scores, "-", color=colour, label=cell, lw=1.5)
        for r, score in zip(runs, scores):
            ax.plot(r.lag, score, "o", color=colour, mfc=colour if r.solved else "white", mec=colour, ms=7)
    if results and results[0].task == "adding":
        ax.axhline(1 - 0.01 * 6, ls=":", c="gray", lw=1, label="solved (MSE 0.01)")
    ax.axhline(0, ls="--", c="gray", lw=1, label="baseline")
    ax.set_xscale("log")
    lags = sorted({r.lag for r in results})
    ax.set_xticks(lags, [str(lag) for lag in lags])
    ax.minorticks_off()
    ax.set_xlabel("lag (time steps between the information and the question)")
    ax.set_ylabel("score (0 = baseline, 1 = perfect)")
    ax.set_ylim(_FLOOR - 0.05, 1.05)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    ax.set_title(title or "memory task: success against lag (filled = solved)")
    fig.tight_layout()
    return write_figure(fig, path, dpi=90)
