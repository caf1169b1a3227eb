"""Quality bars of sequence classification and tagging on real data (issue 4), one command each.

    python benchmarks/labeling.py names          # names -> language, stratified 80/20, bar 82%
    python benchmarks/labeling.py rt_polarity    # movie-review polarity, seeded 90/10, bar 76%
    python benchmarks/labeling.py sst2           # SST-2, train on train.tsv, report dev.tsv, bar 83%
    python benchmarks/labeling.py ewt-words      # UD English-EWT UPOS, words only, bar 93%
    python benchmarks/labeling.py ewt-chars      # ... with character features, bar 95%
    python benchmarks/labeling.py sst2 --minutes 5 --hidden-size 128   # other flags go to rnnkit train

Each trains through the real CLI (``rnnkit train classify|tag``) with a fixed configuration and
a wall-clock budget (default 20 minutes, --minutes), then evaluates the best checkpoint (lowest
validation loss) on the reported split with ``rnnkit eval`` and prints the accuracy against the
bar. The reported split is never used for model selection: SST-2 validates on a seeded 5% of
train.tsv; rt-polarity and names split their data into train / val / test with a fixed seed
(the test part is the issue's 10% / 20%); EWT validates on dev and reports test.

Data: --data DIR, else $RNNKIT_DATA, else ../shared/data beside the repository. Threads: whatever
torch is given (OMP_NUM_THREADS); benchmarks/RESULTS.md says which runs had one core and which two.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

#: name -> (bar, argv after "rnnkit", split or eval file relative to the data dir)
COMMON_TRAIN = ["--lr-schedule", "plateau", "--no-progress"]


def setups(data: Path) -> dict:
    sst, rt, ewt = data / "sst2", data / "rt_polarity", data / "ud_english_ewt"
    words = ["--tokens", "word", "--lowercase", "--bidirectional", "--pooling", "max", "--patience", "1"]
    tagger = [
        "--hidden-size",
        "200",
        "--num-layers",
        "2",
        "--dropout",
        "0.33",
        "--word-dropout",
        "0.25",
        "--patience",
        "1",
    ]
    words_only = ["--embedding-size", "300", "--hidden-size", "300", "--num-layers", "2", "--dropout", "0.5"]
    words_only += ["--word-dropout", "0.5", "--lowercase", "--patience", "2"]
    ewt_files = [
        "tag",
        str(ewt / "en_ewt-ud-train.conllu.gz"),
        "--valid",
        str(ewt / "en_ewt-ud-dev.conllu"),
        "--test",
        str(ewt / "en_ewt-ud-test.conllu"),
    ]
    return {
        "names": (
            0.82,
            ["classify", str(data / "names" / "names"), "--tokens", "char", "--split", "0.72,0.08,0.2"]
            + ["--embedding-size", "64", "--hidden-size", "256", "--num-layers", "2", "--bidirectional"]
            + ["--dropout", "0.3", "--batch-size", "32", "--max-epochs", "30", "--patience", "1"],
            None,
        ),
        "rt_polarity": (
            0.76,
            ["classify", str(rt / "rt-polarity.pos"), str(rt / "rt-polarity.neg"), "--split", "0.81,0.09,0.1"]
            + words
            + ["--embedding-size", "300", "--hidden-size", "150", "--dropout", "0.5", "--batch-size", "32"]
            + ["--max-epochs", "15"],
            None,
        ),
        "sst2": (
            0.83,
            ["classify", str(sst / "train.tsv"), "--split", "0.95,0.05,0.0"]
            + words
            + ["--embedding-size", "300", "--hidden-size", "300", "--dropout", "0.5", "--batch-size", "64"]
            + ["--max-epochs", "8"],
            str(sst / "dev.tsv"),
        ),
        "ewt-words": (0.93, ewt_files + words_only + ["--max-epochs", "30"], None),
        "ewt-chars": (0.95, ewt_files + tagger + ["--char-features", "--max-epochs", "20"], None),
    }


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("setup", choices=["names", "rt_polarity", "sst2", "ewt-words", "ewt-chars"])
    p.add_argument("--data", help="the shared data directory")
    p.add_argument("--minutes", type=float, default=20.0, help="training budget (default 20)")
    p.add_argument("--run-dir", help="default runs/bench-<setup>-<time>")
    args, extra = p.parse_known_args(argv)  # unknown flags go to rnnkit train
    data = Path(args.data or os.environ.get("RNNKIT_DATA") or ROOT.parent / "shared" / "data")
    bar, train_argv, report_file = setups(data)[args.setup]
    run_dir = Path(args.run_dir or ROOT / "runs" / f"bench-{args.setup}-{time.strftime('%Y%m%d-%H%M%S')}")
    extra = [a for a in extra if a != "--"]
    rnnkit = [sys.executable, "-m", "rnnkit.cli.main"]
    cmd = [*rnnkit, "train", *train_argv, *COMMON_TRAIN, "--max-minutes", str(args.minutes), "--run-dir", str(run_dir)]
    print("$", " ".join(cmd[2:] + extra), flush=True)
    started = time.perf_counter()
    subprocess.run(cmd + extra, check=True)
    trained = time.perf_counter() - started
    ev = [*rnnkit, "eval", str(run_dir), "--json"] + (["--data", report_file] if report_file else [])
    result = json.loads(subprocess.run(ev, check=True, capture_output=True, text=True).stdout)
    where = report_file or "the test split"
    status = "met" if result["accuracy"] >= bar else "NOT met"
    line = (
        f"{args.setup}: accuracy {100 * result['accuracy']:.2f}% on {where} (bar {100 * bar:.0f}%: {status}); "
        f"macro-F1 {result['macro_f1']:.4f}"
        + (f"; OOV accuracy {100 * result['oov_accuracy']:.2f}%" if result.get("oov_accuracy") is not None else "")
        + f"; wall time including data and final report {trained / 60:.1f} min; run {run_dir}"
    )
    print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
