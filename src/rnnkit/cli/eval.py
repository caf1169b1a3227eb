"""``rnnkit eval CHECKPOINT``: loss in nats and bits per symbol, and perplexity.

rnnkit eval runs/alice                       # the stored test split of the training text
rnnkit eval runs/alice --split val
rnnkit eval runs/alice --data other.txt      # any text file
rnnkit eval runs/ptb --split val,test        # several stored splits (e.g. PTB's --valid/--test files)
rnnkit eval runs/ptb --data ptb.valid.txt --data ptb.test.txt

Classifiers (rnnkit train classify) report accuracy, macro-F1, per-class precision/recall/F1 and
the confusion matrix (also saved as a PNG heatmap, --confusion); taggers (rnnkit train tag) report
token accuracy, per-tag precision/recall/F1 and the accuracy on words unseen in training;
translators (rnnkit train translate) report BLEU and chrF (sacreBLEU, with its signature; beam
search, --beam/--alpha) and the perplexity per target token, with a few examples. Their
--data files are read like their training data (same columns / format) and evaluated together.

Word models read every file as a corpus (<eos> ending each line) and count words outside the
vocabulary as <unk>; the perplexity is per word, the standard word-level figure.
"""

from __future__ import annotations

import argparse

from rnnkit.tasks import EvalRequest, load, task_of
from rnnkit.train.device import check_device


def add_parser(sub) -> None:
    p = sub.add_parser(
        "eval",
        help="evaluate a trained model (LM: nats, bits, perplexity; classifier/tagger: accuracy, F1, confusion)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("checkpoint", help="a .safetensors checkpoint or a run directory (uses its best)")
    p.add_argument(
        "--data",
        metavar="FILE",
        action="append",
        help="text to evaluate on, repeatable (default: the stored split of the training text)",
    )
    p.add_argument(
        "--split",
        type=_splits,
        default=("test",),
        metavar="SPLIT[,SPLIT...]",
        help="which stored split(s) without --data: train, val, test, comma-separated (default test)",
    )
    p.add_argument(
        "--unknown",
        choices=["error", "skip", "unk"],
        default=None,
        help="tokens of --data the vocabulary lacks: error, skip them, or unk (read as <unk>, word models); "
        "default: unk for word models, error for character models",
    )
    p.add_argument("--batch-size", type=int, default=32, help="streams evaluated in parallel")
    p.add_argument("--seq-len", type=int, default=100, help="window length (the state carries across)")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.add_argument(
        "--confusion",
        metavar="PNG",
        help="classifiers: where the confusion-matrix heatmap goes (default: beside the checkpoint)",
    )
    p.add_argument("--beam", type=int, default=5, help="translators: beam size, 1 = greedy (default 5)")
    p.add_argument("--alpha", type=float, default=1.0, help="translators: length-penalty exponent (default 1)")
    p.add_argument("--device", default="cpu", help="cpu (default), cuda, ...")
    p.set_defaults(run=run)


SPLITS = ("train", "val", "test")


def _splits(text: str) -> tuple[str, ...]:
    """argparse type for --split "val,test"."""
    names = tuple(t.strip() for t in text.split(","))
    bad = [n for n in names if n not in SPLITS]
    if bad or not names:
        raise argparse.ArgumentTypeError(f"expected comma-separated names from {', '.join(SPLITS)}, got {text!r}")
    return names


def run(args) -> int:
    if args.batch_size < 1 or args.seq_len < 1:
        raise ValueError(f"eval: expected --batch-size and --seq-len >= 1, got {args.batch_size} and {args.seq_len}")
    loaded = load(args.checkpoint, device=check_device(args.device, allow_auto=False))
    from rnnkit.infer.beam import check_beam

    check_beam(args.beam, args.alpha)
    request = EvalRequest(
        args.checkpoint,
        args.data,
        args.split,
        args.unknown,
        args.batch_size,
        args.seq_len,
        args.json,
        args.confusion,
        args.beam,
        args.alpha,
    )
    task_of(loaded).evaluate(loaded, request, print)
    return 0
