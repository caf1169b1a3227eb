"""``rnnkit visualize CHECKPOINT --text FILE``: the text coloured by a hidden unit's (or gate's) activation.

rnnkit visualize runs/alice --text chapter.txt                        # layer 1, h[0]; pick others in the page
rnnkit visualize runs/alice --text chapter.txt --layer 2 --unit 17 --signal c
rnnkit visualize runs/alice --text chapter.txt --find                 # which units track quotes, brackets, ...

Writes one self-contained HTML file (no network needed): each symbol's background shows the unit's
activation after reading it (blue high, red low), selectors switch signal (h, c, gates), layer and
unit, and hovering a symbol shows the value and the model's top predictions for what comes next.
--find ranks every unit by how well it tracks simple properties of the text (inside quotes or
brackets, position in the line, after a newline, vowel vs consonant), prints the best ones, and
lists them in the page.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rnnkit.checkpoint.atomic import atomic_write
from rnnkit.data import read_text
from rnnkit.diagnostics.activations import text_activations
from rnnkit.diagnostics.find_units import PROPERTY_NAMES, rank_units, text_properties
from rnnkit.diagnostics.visualize import render_html
from rnnkit.infer.loading import resolve_checkpoint
from rnnkit.tasks import load


def add_parser(sub) -> None:
    p = sub.add_parser(
        "visualize",
        help="colour a text by a unit's activation (self-contained HTML); --find units tracking text properties",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("checkpoint", help="a language-model checkpoint or a run directory (uses its best)")
    p.add_argument("--text", metavar="FILE", required=True, help="the text to read (UTF-8)")
    p.add_argument("--layer", type=int, default=1, help="layer of the unit shown first, 1 = bottom (default 1)")
    p.add_argument("--unit", type=int, default=0, help="unit shown first, 0-based (default 0)")
    p.add_argument(
        "--signal",
        default="h",
        help="what is shown first: h (hidden state), c (LSTM cell), or a gate: i f g o (LSTM), r z n (GRU)",
    )
    p.add_argument("--find", action="store_true", help="rank units by how well they track text properties")
    p.add_argument("--top", type=int, default=5, help="units listed per property with --find (default 5)")
    p.add_argument(
        "--max-chars",
        type=int,
        default=2000,
        metavar="N",
        help="read only the first N characters (the page carries every unit of every layer; default 2000)",
    )
    p.add_argument(
        "--unknown",
        choices=["skip", "error", "unk"],
        default=None,
        help="symbols the vocabulary lacks: skip (default for characters), error, or unk (words)",
    )
    p.add_argument(
        "--out", metavar="FILE", help="the HTML file (default: visualize.html in the checkpoint's directory)"
    )
    p.add_argument("--device", default="cpu", help="cpu (default), cuda, ...")
    p.set_defaults(run=run)


def run(args) -> int:
    if args.max_chars < 1 or args.top < 1:
        raise ValueError(f"visualize: expected --max-chars and --top >= 1, got {args.max_chars} and {args.top}")
    path = resolve_checkpoint(args.checkpoint)
    lm = load(path, device=args.device, expect="lm")
    text = read_text(args.text)[: args.max_chars]
    unknown = args.unknown or ("unk" if lm.word_level else "skip")
    acts = text_activations(lm.model, lm.vocab, text, unknown=unknown)
    acts.unit(args.signal, args.layer - 1, args.unit)  # a bad choice fails before any work is written
    found = None
    if args.find:
        found = rank_units(acts.signals, text_properties(acts.pieces), top=args.top)
        for prop, matches in found.items():
            listed = ", ".join(m.describe() for m in matches) if matches else "(does not vary in this text)"
            print(f"{PROPERTY_NAMES[prop]}: {listed}")
    title = f"rnnkit: {Path(path).parent.name}/{Path(path).stem} reading {Path(args.text).name}"
    page = render_html(acts, args.signal, args.layer - 1, args.unit, title=title, found=found)
    out = Path(args.out) if args.out else Path(path).parent / "visualize.html"
    out.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(out, page)  # a symlink at --out is replaced, never written through
    print(
        f"wrote {out} ({len(acts.pieces):,} symbols, {acts.num_layers} layers x {acts.hidden_size} units)",
        file=sys.stderr,
    )
    return 0
