"""Long-range memory: the lag at which each cell stops learning the adding problem (or recall task).

    python benchmarks/memory_tasks.py                              # rnn, lstm, gru x lags 5..100, 10 min each
    python benchmarks/memory_tasks.py --minutes 3 --task recall --lags 10,50,100,200

Runs ``rnnkit bench memory`` (the same code: rnnkit.diagnostics.memory_bench) and then checks the
bar. No data files: the tasks are generated in code. Each (cell, lag) trains from scratch on its
own wall-time budget and stops early once solved on a validation set.
Bar (issue 5), on a 2-core CPU: LSTM and GRU solve the adding problem at T=100 (test MSE < 0.01,
against 0.167 for always predicting 1) within 10 minutes each. Where the Elman RNN stops beating the
baseline is measured, not tuned: it is printed as the result.
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from pathlib import Path

from rnnkit.cli.main import main as rnnkit_main


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", choices=["adding", "recall"], default="adding", help="default adding")
    parser.add_argument("--cells", default="rnn,lstm,gru", help="default rnn,lstm,gru")
    parser.add_argument("--lags", default="5,10,20,50,100", help="default 5,10,20,50,100")
    parser.add_argument("--minutes", type=float, default=10.0, help="budget per cell and lag (default 10)")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    parser.add_argument("--out", type=Path, default=None, help="default runs/memory-<task>-<time>")
    args = parser.parse_args(argv)
    out = args.out or Path("runs") / f"memory-{args.task}-{time.strftime('%Y%m%d-%H%M%S')}"
    flags = ["memory", "--task", args.task, "--cells", args.cells, "--lags", args.lags, "--minutes", str(args.minutes)]
    flags += ["--threads", str(args.threads), "--out", str(out), "--save"]
    print("rnnkit bench " + " ".join(flags), flush=True)
    code = rnnkit_main(["bench", *flags])
    if code or args.task != "adding":
        return code
    rows = list(csv.DictReader((out / "memory_adding.csv").open()))
    for cell in ("lstm", "gru"):
        at_100 = [r for r in rows if r["cell"] == cell and r["lag"] == "100"]
        if at_100 and args.minutes <= 10:
            r = at_100[0]
            ok = r["solved"] == "True"
            print(
                f"bar: {cell} solves the adding problem at T=100 within {args.minutes:g} min: test MSE "
                f"{float(r['mse']):.4f} after {float(r['seconds']):.0f} s: {'PASS' if ok else 'FAIL'}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
