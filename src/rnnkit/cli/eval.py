"""``rnnkit eval CHECKPOINT``: loss in nats and bits per symbol, and perplexity.

rnnkit eval runs/alice                       # the stored test split of the training text
rnnkit eval runs/alice --split val
rnnkit eval runs/alice --data other.txt      # any text file
"""

from __future__ import annotations

import argparse
import json

from rnnkit.data import read_text
from rnnkit.data.prepare import prepare_chars
from rnnkit.infer import load, loss_report
from rnnkit.models import stream_loss


def add_parser(sub) -> None:
    p = sub.add_parser(
        "eval",
        help="evaluate a trained model (nats, bits per symbol, perplexity)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("checkpoint", help="a .safetensors checkpoint or a run directory (uses its best)")
    p.add_argument(
        "--data", metavar="FILE", help="text to evaluate on (default: the stored split of the training text)"
    )
    p.add_argument(
        "--split",
        choices=["train", "val", "test"],
        default="test",
        help="which stored split, without --data (default test)",
    )
    p.add_argument(
        "--unknown",
        choices=["error", "skip"],
        default="error",
        help="characters of --data the vocabulary lacks: error (default) or skip them",
    )
    p.add_argument("--batch-size", type=int, default=32, help="streams evaluated in parallel")
    p.add_argument("--seq-len", type=int, default=100, help="window length (the state carries across)")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.add_argument("--device", default="cpu", help="cpu (default), cuda, ...")
    p.set_defaults(run=run)


def run(args) -> int:
    if args.batch_size < 1 or args.seq_len < 1:
        raise ValueError(f"eval: expected --batch-size and --seq-len >= 1, got {args.batch_size} and {args.seq_len}")
    lm = load(args.checkpoint, device=args.device)
    if args.data:
        text = read_text(args.data)
        result, where = lm.evaluate_text(text, args.unknown, args.batch_size, args.seq_len), args.data
    else:
        stored = lm.meta["config"]
        data = stored["data"]
        corpus = prepare_chars(
            read_text(stored["source"], data["encoding"], data["errors"]), data["split"], data["mode"]
        )
        ids = corpus.splits[args.split]
        if len(ids) < 2:
            raise ValueError(
                f"eval: the stored {args.split} split is empty; expected a split with text, or --data FILE"
            )
        nats = stream_loss(lm.model, ids, args.batch_size, args.seq_len, lm.device)
        result, where = loss_report(nats, len(ids) - 1), f"the {args.split} split"
    if args.json:
        print(json.dumps(result))
    else:
        print(
            f"{where}: {result['loss']:.4f} nats/symbol, {result['bits']:.4f} bits/symbol, "
            f"perplexity {result['perplexity']:.3f} ({result['tokens']:,} predictions)"
        )
    return 0
