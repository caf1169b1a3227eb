"""``rnnkit train``: train a character- or word-level language model on any text (default: the bundled Alice).

rnnkit train                                  # the demo: Alice in Wonderland, ~3 minutes on CPU
rnnkit train input.txt --max-minutes 10       # a model sized for 10 minutes (see below)
rnnkit train input.txt --hidden-size 512 --num-layers 3 --max-minutes 30
rnnkit train --config run.toml corpus/ --run-dir runs/mine
rnnkit train --resume runs/mine --max-steps 20000
rnnkit train ptb.train.txt.gz --valid ptb.valid.txt --test ptb.test.txt --preset ptb-small

Configuration layers, each overriding the one before: defaults <- --preset <- --config <- flags.
The defaults shown below are those of a run on your own data files.
"""

from __future__ import annotations

import argparse
import textwrap

from rnnkit.cli.defaults import demo_note, run_defaults, settings_note, show_defaults
from rnnkit.cli.flags import add_recurrent_flags, add_run_flags, add_training_flags
from rnnkit.cli.options import add, fractions, preset_names
from rnnkit.cli.run import run_verb
from rnnkit.tasks.lm.budget import LARGE, LARGE_DROPOUT, MAX_PASSES, SMALL, rule_text
from rnnkit.tasks.lm.spec import BUNDLED
from rnnkit.tasks.registry import task_named

__all__ = ["BUNDLED", "add_parser"]


def add_parser(sub) -> None:
    p = sub.add_parser(
        "train",
        help="train a language model on text; `train classify` / `train tag` / `train translate`: the other tasks",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "data",
        nargs="*",
        help="text file(s) or directories of .txt files (default: the bundled Alice's Adventures in Wonderland); "
        "'rnnkit train classify ...', 'rnnkit train tag ...' and 'rnnkit train translate ...' train the other tasks "
        "(see their --help)",
    )
    add_run_flags(p)
    p.add_argument(
        "--preset",
        metavar="NAME",
        help=f"a named configuration shipped with rnnkit ({', '.join(preset_names())}); --config and flags override it",
    )
    p.add_argument(
        "--sample-length",
        type=int,
        default=300,
        metavar="N",
        help="tokens (characters or words) to sample from the best model at the end (0: none)",
    )
    add(
        p,
        "--sample-every",
        dest="train.sample_every",
        type=int,
        metavar="N",
        help="every N steps, a 200-character (50-word) sample at temperature 0.8 from the current weights, "
        "above the progress bar (0: none; default 0)",
    )

    d = p.add_argument_group("data")
    add(d, "--encoding", dest="data.encoding", help="text encoding")
    add(
        d,
        "--errors",
        dest="data.errors",
        choices=["strict", "replace", "ignore"],
        help="undecodable bytes: strict (fail, naming the byte offset), replace or ignore",
    )
    add(
        d,
        "--line-mode",
        dest="data.mode",
        action="store_const",
        const="lines",
        help="one item per line (e.g. names): train with <bos>/<eos> per line; sampling stops at <eos>",
    )
    add(
        d,
        "--tokens",
        dest="data.tokens",
        choices=["char", "word"],
        help="char: every character is a token; word: whitespace-separated words, <eos> per line, <unk>",
    )
    add(
        d,
        "--vocab-size",
        dest="data.vocab_size",
        type=int,
        help="word tokens: keep the N most frequent words, <eos> and <unk> included (0: all)",
    )
    add(d, "--min-freq", dest="data.min_freq", type=int, help="word tokens: words seen fewer than N times become <unk>")
    add(
        d,
        "--valid",
        dest="data.valid",
        metavar="FILE",
        help="a validation file (e.g. ptb.valid.txt); with --valid/--test the data is all training text",
    )
    add(d, "--test", dest="data.test", metavar="FILE", help="a test file (e.g. ptb.test.txt), for rnnkit eval")
    add(
        d,
        "--split",
        dest="data.split",
        type=fractions,
        metavar="TRAIN,VAL,TEST",
        help="contiguous split fractions (ignored with --valid/--test)",
    )
    add(d, "--batch-size", dest="data.batch_size", type=int, help="parallel streams per batch")
    add(d, "--seq-len", dest="data.seq_len", type=int, help="steps per window (the truncated-BPTT length)")

    m = p.add_argument_group("model")
    add_recurrent_flags(m, "embedding size (0: one-hot inputs)")
    add(
        m,
        "--tie-weights",
        dest="model.tie_weights",
        action="store_const",
        const=True,
        help="share embedding and output weights (needs embedding size = hidden size)",
    )
    add(
        m,
        "--embedding-dropout",
        dest="model.embedding_dropout",
        type=float,
        help="drop whole words: each word type's embedding, for a whole batch (Gal & Ghahramani 2016)",
    )
    add(
        m,
        "--init-scale",
        dest="model.init_scale",
        type=float,
        help="init every weight ~ U(-s, s) (0: per-layer default)",
    )

    add_training_flags(p)
    p.set_defaults(run=lambda args: run_verb(args, task_named("lm"), {"sample_length": args.sample_length}))
    spec = task_named("lm")
    p.epilog = budget_note(p) + "\n\n" + demo_note(p, spec.demo(), BUNDLED.name)
    show_defaults(p, run_defaults(spec))


def budget_note(parser) -> str:
    """The epilog's paragraphs on the model a time budget gets (``rnnkit.tasks.lm.budget``)."""
    head = (
        "With --max-minutes and no --hidden-size/--num-layers, the model is sized for the budget and trained "
        "with one of two recipes measured on a 2-core CPU: for a text the budget would read at most "
        f"{MAX_PASSES:g} times (large; no dropout up to {LARGE_DROPOUT[0][0]:g} passes, "
        f"{LARGE_DROPOUT[1][1]:g} beyond), or more (small: overfitting limits the run)."
    )
    notes = [textwrap.fill(head, 78)]
    for recipe in (LARGE, SMALL):
        notes.append(settings_note(parser, recipe.settings, f"A {recipe.name} text gets {rule_text(recipe)};"))
    return "\n\n".join(notes)
