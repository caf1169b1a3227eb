"""``rnnkit bench memory``: how far back can each cell remember? Success against lag on a memory task.

rnnkit bench memory --cells rnn,lstm,gru --lags 5,10,20,50,100 --minutes 10
rnnkit bench memory --task recall --cells lstm --lags 10,100,300 --minutes 2 --save

Each cell trains from scratch on each lag for at most --minutes of wall time (stopping early once
it solves the task on a validation set), on freshly generated data: the adding problem (sum of two
marked numbers; solved = test MSE < 0.01, baseline 0.167) or the recall task (the first symbol
after LAG distractors; solved = accuracy >= 0.99, baseline 1/8). Prints a table and the longest lag
each cell solved / beat the baseline at, and writes a PNG of success against lag and a CSV.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from dataclasses import asdict
from pathlib import Path

import torch

from rnnkit.cells import CELL_TYPES
from rnnkit.checkpoint.atomic import atomic_file, atomic_write
from rnnkit.config import is_real
from rnnkit.diagnostics.memory_bench import BenchConfig, longest_lags, plot_results, results_table, run_benchmark
from rnnkit.diagnostics.memory_tasks import TASK_NAMES, MemoryTask

CELLS = CELL_TYPES  # the registered cells (rnnkit.cells.registry)


def add_parser(sub) -> None:
    p = sub.add_parser(
        "bench",
        help="benchmarks: `bench memory` trains each cell on long-range memory tasks at several lags",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("what", choices=["memory"], help="which benchmark (memory: success against lag)")
    p.add_argument("--task", choices=TASK_NAMES, default="adding", help="adding (default) or recall")
    p.add_argument("--cells", default="rnn,lstm,gru", help="comma-separated cells (default rnn,lstm,gru)")
    p.add_argument("--lags", default="5,10,20,50,100", help="comma-separated lags T (default 5,10,20,50,100)")
    p.add_argument("--minutes", type=float, default=2.0, help="wall-time budget per cell and lag (default 2)")
    p.add_argument("--hidden-size", type=int, default=BenchConfig.hidden_size, help="H (default 64)")
    p.add_argument("--batch-size", type=int, default=BenchConfig.batch_size, help="sequences per step (default 64)")
    p.add_argument("--lr", type=float, default=BenchConfig.lr, help="Adam learning rate (default 1e-3)")
    p.add_argument("--clip", type=float, default=BenchConfig.clip, help="gradient-norm clip (default 1)")
    p.add_argument(
        "--backend", choices=["auto", "fused", "autograd", "native"], default="auto", help="recurrent backend"
    )
    p.add_argument("--seed", type=int, default=BenchConfig.seed, help="random seed (the same for every run)")
    p.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch's default)")
    p.add_argument(
        "--out", metavar="DIR", help="where the PNG, CSV (and models) go (default runs/memory-<task>-<time>)"
    )
    p.add_argument("--save", action="store_true", help="also save each trained model (for `rnnkit diagnose`)")
    p.set_defaults(run=run)


def _ints(text: str, what: str) -> list[int]:
    try:
        values = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise ValueError(f"{what}: expected comma-separated integers, got {text!r}") from None
    if not values or min(values) < 1:
        raise ValueError(f"{what}: expected comma-separated integers >= 1, got {text!r}")
    return values


def run(args) -> int:
    cells = [c.strip() for c in args.cells.split(",") if c.strip()]
    if not cells or any(c not in CELLS for c in cells):
        raise ValueError(f"cells: expected comma-separated cells from {', '.join(CELLS)}, got {args.cells!r}")
    lags = _ints(args.lags, "lags")
    if args.task == "adding" and min(lags) < 2:
        raise ValueError(f"lags: expected lags >= 2 for the adding problem, got {args.lags!r}")
    if not is_real(args.minutes) or not args.minutes > 0:
        raise ValueError(f"minutes: expected a budget > 0, got {args.minutes}")
    if args.threads < 0:
        raise ValueError(f"threads: expected an integer >= 0, got {args.threads}")
    config = BenchConfig(
        hidden_size=args.hidden_size,
        batch_size=args.batch_size,
        lr=args.lr,
        clip=args.clip,
        backend=args.backend,
        seed=args.seed,
    ).validate()
    config.check_fits(cells, lags)
    if args.threads:
        torch.set_num_threads(args.threads)
    task = MemoryTask(args.task)
    out = Path(args.out) if args.out else Path("runs") / f"memory-{args.task}-{time.strftime('%Y%m%d-%H%M%S')}"
    out.mkdir(parents=True, exist_ok=True)
    print(
        f"{task.name}: cells {', '.join(cells)} x lags {', '.join(map(str, lags))}, up to {args.minutes:g} min each, "
        f"H={config.hidden_size}, batch {config.batch_size}, Adam lr {config.lr:g}, clip {config.clip:g}, "
        f"{torch.get_num_threads()} threads; baseline {task.metric} {task.baseline:.3f}",
        file=sys.stderr,
        flush=True,
    )

    def progress(result) -> None:
        m = result.metrics
        print(
            f"  {result.cell} T={result.lag}: test {task.metric} {m[task.metric]:.4f} "
            f"({'solved' if result.solved else 'not solved'}) after {result.steps} steps, {result.seconds:.0f} s",
            file=sys.stderr,
            flush=True,
        )

    results = run_benchmark(task, cells, lags, args.minutes, config, out if args.save else None, progress)
    print(results_table(results))
    for cell, longest in longest_lags(results).items():
        solved = longest["solved"] if longest["solved"] is not None else "none"
        beats = longest["beats_baseline"] if longest["beats_baseline"] is not None else "none"
        failed = [r.lag for r in results if r.cell == cell and not r.beats_baseline]
        stops = f"; no better than the baseline from T={min(failed)}" if failed else ""
        print(f"{cell}: longest lag solved {solved}, beat the baseline up to {beats}{stops}")
    png = plot_results(results, out / f"memory_{task.name}.png", title=f"{task.name}: success against lag")
    with atomic_file(out / f"memory_{task.name}.csv", text=True) as f:
        writer = csv.writer(f)
        writer.writerow(["task", "cell", "lag", task.metric, "score", "solved", "beats_baseline", "steps", "seconds"])
        for r in results:
            m = r.metrics
            writer.writerow(
                [r.task, r.cell, r.lag, m[task.metric], m["score"], r.solved, r.beats_baseline, r.steps, r.seconds]
            )
    atomic_write(
        out / "config.json",
        json.dumps({"task": asdict(task), "bench": asdict(config), "minutes": args.minutes}, indent=2),
    )
    print(f"wrote {png}", file=sys.stderr)
    return 0
