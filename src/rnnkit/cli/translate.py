"""``rnnkit translate CHECKPOINT [TEXT...]``: translate sentences with a trained translator.

rnnkit translate runs/multi30k "Ein Hund läuft im Park."          # texts: one sentence each
rnnkit translate runs/multi30k --file test.de                    # one sentence per line (.gz too)
echo "Ein Hund läuft." | rnnkit translate runs/multi30k          # stdin
rnnkit translate runs/multi30k "Ein Hund." --beam 5 --n-best 3   # the 3 best, with their scores
rnnkit translate runs/multi30k --file test.de --attention-plot plots/   # one heatmap PNG per sentence

Decoding: beam search (--beam 5 by default; GNMT length penalty --alpha; at most
ceil(--max-ratio x source length) + --max-extra tokens), --beam 1 greedy, or --sample with
--temperature / --top-k / --top-p. Output: one translation per line, in the input's order; with
--n-best N, N lines per sentence "k<TAB>score<TAB>translation" and a blank line after each.

Sentences longer than the training run's --max-length (when it had one) are cut to it, with one
warning on stderr saying how many: the model never learned longer ones.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rnnkit.cli.options import intermixed
from rnnkit.data import read_text, split_lines
from rnnkit.tasks import load
from rnnkit.train.device import check_device


def add_parser(sub) -> None:
    p = sub.add_parser(
        "translate",
        help="translate sentences with a trained translator (beam search, n-best)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("checkpoint", help="a translator checkpoint (.safetensors) or its run directory")
    p.add_argument("texts", nargs="*", metavar="TEXT", help="sentences to translate (default: --file, else stdin)")
    p.add_argument("--file", metavar="FILE", help="read sentences from FILE, one per line")
    p.add_argument("--beam", type=int, default=None, help="beam size; 1: greedy (default 5)")
    p.add_argument("--alpha", type=float, default=1.0, help="length-penalty exponent, ((5+len)/6)^alpha (default 1)")
    p.add_argument("--n-best", type=int, default=1, help="print the N best translations per sentence (default 1)")
    p.add_argument("--max-ratio", type=float, default=2.0, help="output tokens per source token at most (default 2)")
    p.add_argument("--max-extra", type=int, default=5, help="plus this many (default 5)")
    p.add_argument("--sample", action="store_true", help="sample each token instead of searching")
    p.add_argument("--temperature", type=float, default=1.0, help="--sample: temperature (default 1)")
    p.add_argument("--top-k", type=int, default=0, help="--sample: keep the k most likely tokens (0: all)")
    p.add_argument("--top-p", type=float, default=1.0, help="--sample: nucleus mass (default 1: all)")
    p.add_argument("--seed", type=int, default=None, help="--sample: random seed")
    p.add_argument("--attention-plot", metavar="DIR", help="write one attention heatmap PNG per sentence into DIR")
    p.add_argument("--batch-size", type=int, default=64, help="sentences per batch (default 64)")
    p.add_argument("--device", default="cpu", help="cpu (default), cuda, ...")
    p.set_defaults(run=run)
    intermixed(p)


def run(args) -> int:
    import torch

    from rnnkit.infer.beam import check_beam
    from rnnkit.infer.decoding import check_lengths_rule
    from rnnkit.infer.sampling import check_sampling

    if args.sample and (args.beam is not None or args.n_best > 1):
        raise ValueError("sample: expected --sample without --beam/--n-best (sampling draws one output)")
    beam = 1 if args.sample else (5 if args.beam is None else args.beam)
    check_beam(beam, args.alpha, args.n_best)
    check_lengths_rule(args.max_ratio, args.max_extra)
    if args.sample:
        check_sampling(args.temperature, args.top_k, args.top_p)
    if args.batch_size < 1:
        raise ValueError(f"batch size: expected an integer >= 1, got {args.batch_size}")
    translator = load(args.checkpoint, device=check_device(args.device, allow_auto=False), expect="translate")
    sentences = _sentences(args)
    ids = translator.encode(sentences)
    limit = int(translator.meta["config"]["data"].get("max_length", 0))
    if limit and any(len(s) > limit for s in ids):
        n = sum(len(s) > limit for s in ids)
        print(
            f"warning: {n} sentence(s) longer than the training limit of {limit} tokens were cut to it", file=sys.stderr
        )
        ids = [s[:limit] for s in ids]
    cfg = translator.model.config
    decoding = {"max_ratio": args.max_ratio, "max_extra": args.max_extra}
    if args.sample:
        generator = torch.Generator(device=translator.device)
        generator.manual_seed(args.seed if args.seed is not None else torch.seed())
        decoding.update(
            sample=True, temperature=args.temperature, top_k=args.top_k, top_p=args.top_p, generator=generator
        )
    from rnnkit.tasks.translate import translate_ids

    plots = args.attention_plot is not None and cfg.attention != "none"
    if args.attention_plot is not None and not plots:
        raise ValueError("attention plot: expected a model with attention, got attention 'none'")
    hyps = translate_ids(
        translator.model,
        ids,
        args.batch_size,
        translator.device,
        cfg.bos_id,
        cfg.eos_id,
        beam,
        args.alpha,
        args.n_best,
        attention=plots,
        **decoding,
    )
    for best in hyps:
        if args.n_best > 1:
            for k, h in enumerate(best, 1):
                print(f"{k}\t{h.score:.4f}\t{translator.detokenize(h.tokens)}")
            print()
        else:
            print(translator.detokenize(best[0].tokens))
    if plots:
        _plot(translator, ids, hyps, Path(args.attention_plot))
    return 0


def _sentences(args) -> list[str]:
    if args.file and args.texts:
        raise ValueError("input: expected TEXT arguments or --file FILE, got both")
    if args.file:
        lines = [line.strip() for line in split_lines(read_text(args.file))]
    elif args.texts:
        lines = [t.strip() for t in args.texts]
    else:
        lines = [line.strip() for line in sys.stdin.read().split("\n")]
    lines = [line for line in lines if line]
    if not lines:
        raise ValueError("input: expected at least one non-empty sentence, got none")
    return lines


def _plot(translator, ids, hyps, directory: Path) -> None:
    from rnnkit.data.segment import JOINER
    from rnnkit.infer.attention_plot import plot_attention

    directory.mkdir(parents=True, exist_ok=True)
    source_symbols, target_symbols = translator.source_vocab, translator.target_vocab

    def shown(tokens) -> list[str]:  # the word rule's joiner marks are for detokenising, not for reading
        return [t.replace(JOINER, "") or t for t in tokens]

    for i, (src, best) in enumerate(zip(ids, hyps), 1):
        h = best[0]
        output = shown(target_symbols.decode(h.tokens)) + (["<eos>"] if h.ended else [])
        weights = h.attention[: len(output), : len(src)].numpy()
        path = directory / f"attention_{i:04d}.png"
        plot_attention(weights, shown(source_symbols.decode(src)), output, path, title=translator.detokenize(h.tokens))
    print(f"attention heatmaps: {len(ids)} PNG file(s) in {directory}", file=sys.stderr)
