"""``rnnkit predict CHECKPOINT TEXT...``: label texts with a trained classifier (or score them with a regressor).

rnnkit predict runs/sst2 "a gorgeous , witty film" "dull and overlong"
rnnkit predict runs/names --top 3 Nakamura Schmidt Rossi
cat reviews.txt | rnnkit predict runs/sst2          # one text per line on stdin (blank lines skipped)

Prints one line per text: the label and its probability (with --top N, the N most probable labels
and their probabilities), then the text, tab-separated; --json prints one JSON object per line.
"""

from __future__ import annotations

import argparse
import json
import sys

from rnnkit.cli.options import intermixed
from rnnkit.tasks import load
from rnnkit.train.device import check_device


def add_parser(sub) -> None:
    p = sub.add_parser(
        "predict",
        help="label texts with a trained classifier",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("checkpoint", help="a classifier checkpoint (.safetensors) or its run directory")
    p.add_argument("texts", nargs="*", help="texts to label (default: one per line on stdin)")
    p.add_argument("--top", type=int, default=1, metavar="N", help="print the N most probable labels (default 1)")
    p.add_argument("--batch-size", type=int, default=64, help="texts per batch")
    p.add_argument("--json", action="store_true", help="one JSON object per text")
    p.add_argument("--device", default="cpu", help="cpu (default), cuda, ...")
    p.set_defaults(run=run)
    intermixed(p)


def run(args) -> int:
    if args.top < 1 or args.batch_size < 1:
        raise ValueError(f"predict: expected --top and --batch-size >= 1, got {args.top} and {args.batch_size}")
    clf = load(args.checkpoint, device=check_device(args.device, allow_auto=False), expect="classify")
    # stdin: one text per line, blank lines skipped; arguments are taken as given (an empty one is an error)
    texts = args.texts if args.texts else [line.rstrip("\r\n") for line in sys.stdin if line.strip()]
    if not texts:
        raise ValueError("predict: expected texts as arguments or lines on stdin, got none")
    for i, text in enumerate(texts):
        if not text.strip():
            raise ValueError(f"predict: text {i + 1} is empty; expected at least one token")
    top = clf.top(texts, min(args.top, max(1, len(clf.labels))), args.batch_size)
    for text, ranked in zip(texts, top, strict=True):
        if args.json:
            print(json.dumps({"text": text, "top": [{"label": lab, "p": p} for lab, p in ranked]}))
        elif clf.regress:
            print(f"{ranked[0][1]:.4f}\t{text}")
        else:
            print("\t".join(f"{lab}\t{p:.4f}" for lab, p in ranked) + f"\t{text}")
    return 0
