"""Which language-model size to make the default: the best validation loss each candidate reaches by
1, 3 and 10 minutes of wall clock on this machine, on tiny Shakespeare and Alice (issue 13, item 1).

    python benchmarks/default_model.py                          # 5 candidates x 2 datasets x 10 min: ~100 min
    python benchmarks/default_model.py --minutes 3 --at 1,3 --candidates 1x256,2x256 --datasets alice
    python benchmarks/default_model.py --minutes 0.1 --at 0.05,0.1 --candidates 1x32 --out /tmp/smoke.json

Each candidate LxH (L layers of H units) is trained through the CLI, one run after the other, for
one budget of --minutes per run: ``rnnkit train FILE --hidden-size H --num-layers L --cell CELL``
plus every other setting of the demo (``rnnkit.tasks.lm.spec.DEMO``: batch, sequence length,
embedding, dropout, learning rate and schedule, evaluation interval), the demo's own time budget
replaced by --minutes. Every run of a dataset uses its default split (contiguous 90/5/5: the same
validation text for every candidate) and the same --seed, so the numbers compare.

From each run's metrics.jsonl: the best validation loss among the evaluations logged by each mark of
--at (their ``elapsed_s``, which counts evaluation time too), the steps done, the parameters and
the median training throughput. One run of --minutes gives every mark up to it; a mark with no
evaluation yet shows "-" (a big model evaluates every --eval-every steps, which may take longer
than the first mark; a run stopped AT that mark would have evaluated once at its end, so a smaller
--eval-every brings such a model's early figure closer). Prints the machine (CPU model, cores,
torch threads), one table per dataset (rows: candidates; columns: marks; ``*`` the best of each
column) and writes everything to --out as JSON.

Data: $RNNKIT_DATA (default ../shared/data): tinyshakespeare/input.txt, alice/alice_in_wonderland.txt
(Alice falls back to the copy bundled in the package). Run it alone on the machine: timings are the
point.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import torch

import rnnkit
from rnnkit.cli.main import command_parser
from rnnkit.cli.main import main as rnnkit_main
from rnnkit.tasks.lm.spec import BUNDLED, DEMO

DATASETS = {  # name: (title, path under the data directory, bundled fallback)
    "shakespeare": ("tiny Shakespeare", Path("tinyshakespeare") / "input.txt", None),
    "alice": ("Alice in Wonderland", Path("alice") / "alice_in_wonderland.txt", BUNDLED),
}
#: The demo settings the candidates replace or the budget replaces (the rest become flags).
SET_HERE = {"model.rnn.hidden_size", "model.rnn.num_layers", "train.max_minutes", "train.eval_every"}


def default_data_dir() -> Path:
    return Path(os.environ.get("RNNKIT_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))


def candidates(text: str) -> list[tuple[int, int]]:
    """ "1x128,2x256" -> [(1, 128), (2, 256)] as (layers, hidden size)."""
    out = []
    for item in text.split(","):
        layers, _, hidden = item.strip().partition("x")
        if not (layers.isdigit() and hidden.isdigit() and int(layers) > 0 and int(hidden) > 0):
            raise argparse.ArgumentTypeError(f"expected candidates like 1x128,2x256 (LAYERSxHIDDEN), got {item!r}")
        out.append((int(layers), int(hidden)))
    return out


def marks(text: str) -> list[float]:
    try:
        values = [float(m) for m in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected minutes like 1,3,10, got {text!r}") from None
    if not values or any(v <= 0 for v in values):
        raise argparse.ArgumentTypeError(f"expected minutes > 0 like 1,3,10, got {text!r}")
    return sorted(values)


def demo_flags() -> list[str]:
    """The demo's settings as ``rnnkit train`` flags, found by each flag's dest ("data.batch_size")."""
    option = {a.dest: a.option_strings[0] for a in command_parser("train")._actions if a.option_strings}
    flags = []
    stack = [("", DEMO)]
    while stack:
        prefix, table = stack.pop(0)
        for key, value in table.items():
            dest = f"{prefix}{key}"
            if isinstance(value, dict):
                stack.append((f"{dest}.", value))
            elif dest not in SET_HERE:
                if dest not in option:
                    raise SystemExit(f"benchmark: the demo sets {dest}, which no `rnnkit train` flag sets")
                flags += [option[dest], str(value)]
    return flags


def machine() -> dict:
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": model,
        "cores": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "rnnkit": rnnkit.__version__,
        "python": platform.python_version(),
    }


def summarise(run_dir: Path, at: list[float], minutes: float) -> dict:
    """Best validation loss by each mark, steps, parameters and throughput of one finished run. A
    mark at the budget counts the evaluation the run ends with (logged a moment after it)."""
    records = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines() if line.strip()]
    evals = [r for r in records if r.get("kind") == "eval" and "val_loss" in r]
    trains = [r for r in records if r.get("kind") == "train"]
    best_by = {}
    for m in at:
        limit = float("inf") if m >= minutes else 60 * m
        seen = [r["val_loss"] for r in evals if r["elapsed_s"] <= limit]
        best_by[f"{m:g}"] = min(seen) if seen else None
    rates = [r.get("tokens_per_s", r.get("tok_per_s")) for r in trains]
    rates = [x for x in rates if x is not None]
    model = rnnkit.load(run_dir).model
    return {
        "best_by": best_by,
        "final_val_loss": min((r["val_loss"] for r in evals), default=None),
        "steps": max((r["step"] for r in records if "step" in r), default=0),
        "seconds": max((r["elapsed_s"] for r in records if "elapsed_s" in r), default=0.0),
        "parameters": sum(p.numel() for p in model.parameters()),
        "tokens_per_s": statistics.median(rates) if rates else None,
        "evaluations": [(r["step"], round(r["elapsed_s"], 1), r["val_loss"]) for r in evals],
    }


def table(title: str, runs: list[dict], at: list[float]) -> str:
    """Rows: candidates; columns: the marks (``*``: the best of the column), then steps, parameters, tok/s."""
    keys = [f"{m:g}" for m in at]
    best = {k: min((r["best_by"][k] for r in runs if r["best_by"][k] is not None), default=None) for k in keys}
    head = f"{'candidate':<10}" + "".join(f"{k + ' min':>11}" for k in keys) + f"{'steps':>8}{'params':>11}{'tok/s':>9}"
    lines = [title, head, "-" * len(head)]
    for r in runs:
        cells = ""
        for k in keys:
            v = r["best_by"][k]
            cells += f"{'-':>11}" if v is None else f"{v:10.4f}{'*' if v == best[k] else ' '}"
        rate = "-" if r["tokens_per_s"] is None else f"{r['tokens_per_s']:.0f}"
        lines.append(f"{r['candidate']:<10}{cells}{r['steps']:8d}{r['parameters']:11,d}{rate:>9}")
    return "\n".join(lines)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(
        description=__doc__.splitlines()[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument(
        "--candidates",
        type=candidates,
        default=candidates("1x128,1x256,2x256,1x512,2x512"),
        help="LAYERSxHIDDEN sizes to compare (default 1x128,1x256,2x256,1x512,2x512)",
    )
    p.add_argument("--cell", default="lstm", help="recurrent cell of every candidate (default lstm)")
    p.add_argument("--minutes", type=float, default=10.0, help="wall-clock budget of each run (default 10)")
    p.add_argument(
        "--at",
        "--checkpoints-at",
        dest="at",
        type=marks,
        default=marks("1,3,10"),
        help="minutes at which to read the best validation loss (default 1,3,10; each <= --minutes)",
    )
    p.add_argument("--datasets", default="shakespeare,alice", help="which of: shakespeare, alice (default both)")
    p.add_argument(
        "--data-dir", type=Path, default=None, help="datasets folder (default $RNNKIT_DATA or ../shared/data)"
    )
    p.add_argument(
        "--eval-every",
        type=int,
        default=DEMO["train"]["eval_every"],
        help=f"steps between evaluations (default the demo's, {DEMO['train']['eval_every']})",
    )
    p.add_argument("--seed", type=int, default=1234, help="the training seed of every run (default 1234)")
    p.add_argument("--device", default="cpu", help="device of every run (default cpu)")
    p.add_argument("--runs-dir", type=Path, default=Path("runs") / f"default-model-{time.strftime('%Y%m%d-%H%M%S')}")
    p.add_argument(
        "--out", type=Path, default=None, help="write the results as JSON here (default RUNS_DIR/results.json)"
    )
    args = p.parse_args(argv)
    if args.minutes <= 0 or args.at[-1] > args.minutes:
        p.error(f"expected --minutes > 0 and every --at mark <= --minutes ({args.minutes:g}), got {args.at}")
    names = [n.strip() for n in args.datasets.split(",") if n.strip()]
    unknown = [n for n in names if n not in DATASETS]
    if unknown or not names:
        p.error(f"--datasets: expected some of {', '.join(DATASETS)}, got {args.datasets!r}")
    sources = {}
    for name in names:
        title, rel, fallback = DATASETS[name]
        path = (args.data_dir or default_data_dir()) / rel
        path = path if path.is_file() else fallback
        if path is None or not Path(path).is_file():
            print(
                f"benchmark: no {title} at {(args.data_dir or default_data_dir()) / rel}; set RNNKIT_DATA",
                file=sys.stderr,
            )
            return 2
        sources[name] = Path(path)

    info = machine()
    common = [
        *demo_flags(),
        "--cell",
        args.cell,
        "--max-minutes",
        f"{args.minutes:g}",
        "--eval-every",
        str(args.eval_every),
        "--seed",
        str(args.seed),
        "--device",
        args.device,
        "--sample-length",
        "0",
        "--no-progress",
    ]
    print(
        f"machine: {info['cpu']}; {info['cores']} cores, torch {info['torch']} with {info['torch_threads']} "
        f"threads; rnnkit {info['rnnkit']}, Python {info['python']}"
    )
    print(
        f"settings: {args.minutes:g} min per run, marks at {', '.join(f'{m:g}' for m in args.at)} min; "
        f"rnnkit train FILE --num-layers L --hidden-size H {' '.join(common)}",
        flush=True,
    )
    results = {"machine": info, "minutes": args.minutes, "at": args.at, "flags": common, "datasets": {}}
    tables = []
    for name, path in sources.items():
        runs = []
        for layers, hidden in args.candidates:
            run_dir = args.runs_dir / f"{name}-{layers}x{hidden}"
            flags = [str(path), "--num-layers", str(layers), "--hidden-size", str(hidden), *common]
            print(f"\n[{name} {layers}x{hidden}] rnnkit train {' '.join(flags)} --run-dir {run_dir}", flush=True)
            code = rnnkit_main(["train", *flags, "--run-dir", str(run_dir)])
            if code:
                print(f"benchmark: the {layers}x{hidden} run on {name} failed (exit {code})", file=sys.stderr)
                return code
            runs.append(
                {
                    "candidate": f"{layers}x{hidden}",
                    "layers": layers,
                    "hidden_size": hidden,
                    "run_dir": str(run_dir),
                    **summarise(run_dir, args.at, args.minutes),
                }
            )
        title = f"{DATASETS[name][0]} ({path.name}): best validation loss (nats/char) by wall clock, {args.cell}"
        results["datasets"][name] = {"source": str(path), "runs": runs}
        tables.append(table(title, runs, args.at))
    print("\n" + "\n\n".join(tables))
    out = args.out or args.runs_dir / "results.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(f"\nresults: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
