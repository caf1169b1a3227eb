"""``rnnkit eval CHECKPOINT``: loss in nats and bits per symbol, and perplexity.

rnnkit eval runs/alice                       # the stored test split of the training text
rnnkit eval runs/alice --split val
rnnkit eval runs/alice --data other.txt      # any text file
rnnkit eval runs/ptb --split val,test        # several stored splits (e.g. PTB's --valid/--test files)
rnnkit eval runs/ptb --data ptb.valid.txt --data ptb.test.txt

Classifiers (rnnkit train classify) report accuracy, macro-F1, per-class precision/recall/F1 and
the confusion matrix (also saved as a PNG heatmap, --confusion); taggers (rnnkit train tag) report
token accuracy, per-tag precision/recall/F1 and the accuracy on words unseen in training. Their
--data files are read like their training data (same columns / format) and evaluated together.

Word models read every file as a corpus (<eos> ending each line) and count words outside the
vocabulary as <unk>; the perplexity is per word, the standard word-level figure.
"""

from __future__ import annotations

import argparse
import json

from rnnkit.cli.options import override
from rnnkit.data import DataConfig, read_text
from rnnkit.data.prepare import prepare_corpus
from rnnkit.infer import LoadedLanguageModel, load, loss_report
from rnnkit.models import stream_loss


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
    lm = load(args.checkpoint, device=args.device)
    if not isinstance(lm, LoadedLanguageModel):
        from rnnkit.cli.label_eval import run_eval

        return run_eval(args, lm)
    results: dict[str, dict] = {}
    if args.data:
        texts = {path: read_text(path) for path in args.data}  # read all first: a bad file fails before any output
        for path, text in texts.items():
            results[path] = lm.evaluate_text(text, args.unknown, args.batch_size, args.seq_len)
    else:
        stored = lm.meta["config"]
        data_cfg = override(DataConfig(), stored["data"], "checkpoint [data]")
        corpus = prepare_corpus(data_cfg, stored["source"])
        for split in args.split:
            ids = corpus.splits[split]
            if len(ids) < 2:
                raise ValueError(f"eval: the stored {split} split is empty; expected a split with text, or --data FILE")
        for split in args.split:
            ids = corpus.splits[split]
            nats = stream_loss(lm.model, ids, args.batch_size, args.seq_len, lm.device)
            results[split] = loss_report(nats, len(ids) - 1)
    if args.json:
        print(json.dumps(next(iter(results.values())) if len(results) == 1 else results))
        return 0
    per = "word" if lm.word_level else "symbol"
    for where, result in results.items():
        where = where if args.data else f"the {where} split"
        print(
            f"{where}: {result['loss']:.4f} nats/{per}, {result['bits']:.4f} bits/{per}, "
            f"perplexity {result['perplexity']:.3f} ({result['tokens']:,} predictions)"
        )
    return 0
