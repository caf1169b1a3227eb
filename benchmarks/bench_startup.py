"""Start-up time of the ``rnnkit`` command, beside ``import torch`` measured in the same run.

    python benchmarks/bench_startup.py              # median of 10 runs of each command
    python benchmarks/bench_startup.py --runs 30 --markdown

Each command runs in a fresh interpreter (a subprocess, output discarded), in turn, round after
round, so drifts in machine speed hit them alike; the table gives the median, min and max wall time
of each. ``rnnkit`` is the console script beside this Python (else ``python -m rnnkit.cli.main``).
The first round warms the file cache and is not counted.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path


def rnnkit_command() -> list[str]:
    script = Path(sys.executable).parent / "rnnkit"
    if script.is_file():
        return [str(script)]
    found = shutil.which("rnnkit")
    return [found] if found else [sys.executable, "-m", "rnnkit.cli.main"]


def commands() -> dict[str, list[str]]:
    rnnkit, py = rnnkit_command(), sys.executable
    return {
        "python -c pass (the interpreter alone)": [py, "-c", "pass"],
        'python -c "import torch" (the peer)': [py, "-c", "import torch"],
        "rnnkit --version": [*rnnkit, "--version"],
        "rnnkit --help": [*rnnkit, "--help"],
        "python -m rnnkit --version": [py, "-m", "rnnkit", "--version"],
        "rnnkit runs --help": [*rnnkit, "runs", "--help"],
        "rnnkit train --help": [*rnnkit, "train", "--help"],
        "rnnkit train classify --help": [*rnnkit, "train", "classify", "--help"],
    }


def time_once(argv: list[str], env: dict) -> float:
    start = time.perf_counter()
    subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, check=True)
    return time.perf_counter() - start


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--runs", type=int, default=10, help="timed runs of each command (default 10)")
    p.add_argument("--markdown", action="store_true", help="print a Markdown table (for RESULTS.md)")
    args = p.parse_args(argv)
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    table = commands()
    times: dict[str, list[float]] = {name: [] for name in table}
    for round_ in range(args.runs + 1):
        for name, command in table.items():
            elapsed = time_once(command, env)
            if round_:  # round 0 warms the caches
                times[name].append(elapsed)
    torch_median = statistics.median(times['python -c "import torch" (the peer)'])
    rows = [
        (name, statistics.median(t), min(t), max(t), statistics.median(t) / torch_median) for name, t in times.items()
    ]
    if args.markdown:
        print(f"| command (median of {args.runs}) | median s | min s | max s | vs import torch |")
        print("|---|---:|---:|---:|---:|")
        for name, med, lo, hi, ratio in rows:
            print(f"| `{name}` | {med:.3f} | {lo:.3f} | {hi:.3f} | {ratio:.2f} |")
    else:
        width = max(len(name) for name in table)
        print(f"{'command':<{width}}  median s  min s  max s  vs import torch   (median of {args.runs})")
        for name, med, lo, hi, ratio in rows:
            print(f"{name:<{width}}  {med:8.3f}  {lo:5.3f}  {hi:5.3f}  {ratio:15.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
