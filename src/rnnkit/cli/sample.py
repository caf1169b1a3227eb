"""``rnnkit sample CHECKPOINT``: generate text from a trained model, streamed as it comes.

rnnkit sample runs/alice --prime "Alice was" --length 500 --temperature 0.7
rnnkit sample runs/names --num-samples 10          # line mode: one item per sample
rnnkit sample runs/ptb --prime "the company said" --length 100   # word model: words, <eos> as a newline
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rnnkit.infer import check_sampling
from rnnkit.tasks import load
from rnnkit.train.device import check_device


def add_parser(sub) -> None:
    p = sub.add_parser(
        "sample",
        help="generate text from a trained model",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("checkpoint", help="a .safetensors checkpoint or a run directory (uses its best)")
    p.add_argument("--prime", default="", help="text to condition on (run through the network once)")
    p.add_argument("--prime-file", metavar="FILE", help="read the prime from a UTF-8 file")
    p.add_argument("--length", type=int, default=500, help="symbols to generate per sample (default 500)")
    p.add_argument(
        "--temperature",
        type=float,
        default=1.0,
        help="> 0; lower = more conservative and repetitive, higher = more surprising (default 1)",
    )
    p.add_argument("--top-k", type=int, default=None, help="sample only among the k most likely symbols")
    p.add_argument("--top-p", type=float, default=1.0, help="sample from the smallest set with this much mass")
    p.add_argument("--greedy", action="store_true", help="always take the most likely symbol")
    p.add_argument("--seed", type=int, default=None, help="random seed (same seed, same text)")
    p.add_argument("--stop-at", default=None, metavar="STRING", help="stop a sample once it produces STRING")
    p.add_argument("--num-samples", type=int, default=1, help="how many samples (default 1)")
    p.add_argument(
        "--unknown",
        choices=["error", "skip", "unk"],
        default=None,
        help="prime tokens the vocabulary lacks: error, skip them, or unk (read as <unk>, word models only); "
        "default: unk for word models, error for character models",
    )
    p.add_argument("--device", default="cpu", help="cpu (default), cuda, ...")
    p.set_defaults(run=run)


def run(args) -> int:
    top_k = 0 if args.top_k is None else args.top_k
    if args.top_k is not None and args.top_k < 1:
        raise ValueError(f"top-k: expected an integer >= 1, got {args.top_k}")
    check_sampling(args.temperature, top_k, args.top_p)
    if args.length < 0:
        raise ValueError(f"length: expected an integer >= 0, got {args.length}")
    if args.num_samples < 1:
        raise ValueError(f"num-samples: expected an integer >= 1, got {args.num_samples}")
    prime = args.prime
    if args.prime_file:
        path = Path(args.prime_file)
        if not path.is_file():
            raise ValueError(f"prime-file: no such file: {path}")
        prime = path.read_text(encoding="utf-8")
    lm = load(args.checkpoint, device=check_device(args.device, allow_auto=False), expect="lm")
    lm.check_prime(prime, args.unknown)  # fail before printing anything

    def emit(text: str) -> None:
        sys.stdout.write(text)
        sys.stdout.flush()

    for i in range(args.num_samples):
        if i:
            emit("\n" if lm.line_mode else "\n\n")
        seed = None if args.seed is None else args.seed + i
        lm.generate(
            prime,
            length=args.length,
            temperature=args.temperature,
            top_k=top_k,
            top_p=args.top_p,
            greedy=args.greedy,
            seed=seed,
            stop_at=args.stop_at,
            unknown=args.unknown,
            on_text=emit,  # the prime, then each piece
        )
    emit("\n")
    return 0
