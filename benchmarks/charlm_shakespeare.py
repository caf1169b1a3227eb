"""Quality bar for the character language model: tiny Shakespeare, validation loss vs wall time.

    python benchmarks/charlm_shakespeare.py                       # data from $RNNKIT_DATA or ../shared/data
    python benchmarks/charlm_shakespeare.py --data-dir DIR --minutes 10
    python benchmarks/charlm_shakespeare.py --cell mingru     # the same run with another cell (issue 18)

Split: first 90% train, last 10% validation (nanoGPT's split). The clock includes evaluation.
Bar (issue 3): validation loss <= 1.75 nats/char after 3 minutes and <= 1.55 after 10 minutes on
a 2-core CPU. Prints the validation curve against wall time and the loss at each mark.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from rnnkit.cli.main import main as rnnkit_main

CONFIG = [  # the run's flags, printed in the report
    "--split",
    "0.9,0.1,0",
    "--cell",
    "lstm",
    "--hidden-size",
    "512",
    "--num-layers",
    "2",
    "--embedding-size",
    "64",
    "--dropout",
    "0.1",
    "--batch-size",
    "64",
    "--seq-len",
    "100",
    "--lr",
    "3e-3",
    "--lr-schedule",
    "plateau",
    "--lr-decay",
    "0.5",
    "--patience",
    "2",
    "--eval-every",
    "100",
    "--seed",
    "1234",
    "--sample-length",
    "300",
]


def default_data_dir() -> Path:
    return Path(os.environ.get("RNNKIT_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data-dir", type=Path, default=None, help="datasets folder (default $RNNKIT_DATA or ../shared/data)"
    )
    parser.add_argument("--minutes", type=float, default=10.0, help="training budget in minutes (default 10)")
    parser.add_argument("--cell", default="lstm", help="the recurrent cell (default lstm, the bar's)")
    parser.add_argument("--run-dir", type=Path, default=None, help="default runs/shakespeare-<cell>-<time>")
    args = parser.parse_args(argv)
    args.run_dir = args.run_dir or Path("runs") / f"shakespeare-{args.cell}-{time.strftime('%Y%m%d-%H%M%S')}"
    config = list(CONFIG)
    config[config.index("--cell") + 1] = args.cell
    data = (args.data_dir or default_data_dir()) / "tinyshakespeare" / "input.txt"
    if not data.is_file():
        print(f"benchmark: no tiny Shakespeare at {data}; pass --data-dir or set RNNKIT_DATA", file=sys.stderr)
        return 2
    flags = [str(data), "--run-dir", str(args.run_dir), "--max-minutes", str(args.minutes), *config]
    print("rnnkit train " + " ".join(flags), flush=True)
    code = rnnkit_main(["train", *flags])
    if code:
        return code
    evals = [json.loads(line) for line in (args.run_dir / "metrics.jsonl").read_text().splitlines()]
    evals = [r for r in evals if r["kind"] == "eval"]
    print("\nvalidation loss against wall time (seconds, including evaluation)")
    print(f"{'step':>6} {'epoch':>6} {'seconds':>8} {'val loss':>9}")
    for r in evals:
        print(f"{r['step']:6d} {r['epoch']:6.2f} {r['elapsed_s']:8.1f} {r['val_loss']:9.4f}")
    for minutes, bar in ((3, 1.75), (10, 1.55)):
        seen = [r["val_loss"] for r in evals if r["elapsed_s"] <= 60 * minutes + 1]
        if seen and minutes <= args.minutes:
            best = min(seen)
            print(
                f"best validation loss within {minutes} min: {best:.4f} nats/char (bar <= {bar}): "
                f"{'PASS' if best <= bar else 'FAIL'}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
