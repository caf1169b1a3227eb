"""Character-level Penn Treebank: bits per character on the test split within a CPU budget (issue 18).

    python benchmarks/ptb_char.py                              # lnlstm 1x1000, 120 minutes
    python benchmarks/ptb_char.py --cell lstm --minutes 10     # another cell, a shorter budget
    python benchmarks/ptb_char.py --max-steps 20 --minutes 0   # smoke test

Data (``--data-dir``, default ``$RNNKIT_DATA`` or ``../shared/data``): ``ptb/ptb.char.valid.txt`` and
``ptb.char.test.txt``; the train split is not stored there and is rebuilt from ``ptb.train.txt.gz`` by
the rule ``ptb/SOURCE.md`` gives (checked against the sha256 it lists) into ``$RNNKIT_CACHE/data``
(default ``~/.cache/rnnkit/data``). In these files every symbol is followed by a space, ``_`` marks a
word boundary and each line ends with a newline symbol; read with ``--tokens word`` each symbol is a
token and each line end an ``<eos>`` (the newline symbol): 49 symbols + newline, the canonical 50.
Bits per character = the test loss / ln 2 over every symbol, newline included (the standard
measure), evaluated as one stream (batch 1, state carried through the whole text).

Bar (issue 18): <= 1.35 bits per character on the test split within 2 hours of CPU training, with
the best of the new cells.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import math
import os
import sys
import time
from pathlib import Path

import torch

from rnnkit.cli.main import main as rnnkit_main
from rnnkit.config import override
from rnnkit.tasks import DataConfig, load, stream_loss
from rnnkit.tasks.lm.prepare import prepare_corpus

TRAIN_SHA256 = "e313d91425e06c4f0a8fb6e881dcce0c291f2a0e9f4dda54833069b122f91da9"  # ptb/SOURCE.md
BAR = (1.35, 120.0)  # bits per character, minutes


def default_data_dir() -> Path:
    return Path(os.environ.get("RNNKIT_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))


def word_to_char(text: str) -> str:
    """The rule of ptb/SOURCE.md: a word file's text -> its character file's text."""
    symbols = []
    for line in text.split("\n")[:-1]:
        for i, word in enumerate(line.split()):
            if i:
                symbols.append("_")
            symbols.extend(word)
        symbols.append("\n")
    return "".join(s + " " for s in symbols)


def char_train_file(data_dir: Path) -> Path:
    """ptb.char.train.txt, rebuilt once into the cache and checked against its published sha256."""
    cache = Path(os.environ.get("RNNKIT_CACHE") or Path.home() / ".cache" / "rnnkit") / "data"
    target = cache / "ptb.char.train.txt"
    if target.is_file() and hashlib.sha256(target.read_bytes()).hexdigest() == TRAIN_SHA256:
        return target
    with gzip.open(data_dir / "ptb" / "ptb.train.txt.gz", "rt", encoding="utf-8", newline="") as f:
        text = word_to_char(f.read())
    digest = hashlib.sha256(text.encode()).hexdigest()
    if digest != TRAIN_SHA256:
        raise SystemExit(f"benchmark: the rebuilt ptb.char.train.txt has sha256 {digest}, expected {TRAIN_SHA256}")
    cache.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".tmp")
    tmp.write_text(text, encoding="utf-8", newline="")
    os.replace(tmp, target)
    return target


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--cell", default="lnlstm")
    parser.add_argument("--num-layers", type=int, default=1)
    parser.add_argument("--hidden-size", type=int, default=1000)
    parser.add_argument("--embedding-size", type=int, default=128)
    parser.add_argument("--dropout", type=float, default=0.25)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--seq-len", type=int, default=150)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--minutes", type=float, default=BAR[1], help="training budget (0: none)")
    parser.add_argument("--max-steps", type=int, default=None, help="stop after this many steps (smoke tests)")
    parser.add_argument("--run-dir", type=Path, default=None)
    parser.add_argument("--extra", nargs=argparse.REMAINDER, default=[], help="more `rnnkit train` flags")
    args = parser.parse_args(argv)
    data_dir = args.data_dir or default_data_dir()
    valid, test = (data_dir / "ptb" / f"ptb.char.{s}.txt" for s in ("valid", "test"))
    if not (valid.is_file() and test.is_file() and (data_dir / "ptb" / "ptb.train.txt.gz").is_file()):
        print(f"benchmark: PTB not found under {data_dir}; pass --data-dir or set RNNKIT_DATA", file=sys.stderr)
        return 2
    train = char_train_file(data_dir)
    run_dir = args.run_dir or Path("runs") / f"ptb-char-{args.cell}-{time.strftime('%Y%m%d-%H%M%S')}"
    flags = [str(train), "--valid", str(valid), "--test", str(test), "--tokens", "word", "--vocab-size", "0",
             "--cell", args.cell, "--num-layers", str(args.num_layers), "--hidden-size", str(args.hidden_size),
             "--embedding-size", str(args.embedding_size), "--dropout", str(args.dropout),
             "--batch-size", str(args.batch_size), "--seq-len", str(args.seq_len), "--lr", str(args.lr),
             "--optimizer", "adamw", "--run-dir", str(run_dir), "--no-progress", "--sample-length", "0"]  # fmt: skip
    if args.minutes:
        flags += ["--max-minutes", str(args.minutes), "--lr-schedule", "cosine", "--warmup", "200"]
    if args.max_steps is not None:
        flags += ["--max-steps", str(args.max_steps)]
    flags += args.extra
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads\nrnnkit train " + " ".join(flags), flush=True)
    started = time.perf_counter()
    code = rnnkit_main(["train", *flags])
    wall = time.perf_counter() - started
    if code:
        return code
    lm = load(run_dir)
    cfg = json.loads((run_dir / "config.json").read_text())
    corpus = prepare_corpus(override(DataConfig(), cfg["data"], "config"), cfg["source"])  # the run's own splits
    ids = {"valid": corpus.splits["val"], "test": corpus.splits["test"]}
    bpc = {s: stream_loss(lm.model, v, 1, 200, lm.device) / math.log(2) for s, v in ids.items()}
    print(
        f"\nbest checkpoint (step {lm.meta['step']}, {lm.meta['epoch']} epochs), one stream:\n"
        f"  valid {bpc['valid']:.4f} bits per character, test {bpc['test']:.4f}\n"
        f"  wall time {wall / 60:.1f} min (training, data preparation and validation)"
    )
    verdict = "n/a (not the full budget)" if args.minutes < BAR[1] else ("PASS" if bpc["test"] <= BAR[0] else "FAIL")
    print(f"bar: test <= {BAR[0]} bits per character within {BAR[1]:g} min: {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
