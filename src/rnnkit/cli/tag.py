"""``rnnkit tag CHECKPOINT [FILE]``: tag tokens with a trained tagger.

rnnkit tag runs/ewt sentences.txt                 # plain text: one sentence per line, whitespace tokens
rnnkit tag runs/ewt en_ewt-ud-test.conllu         # CoNLL-U in (its tags are ignored), CoNLL-U out
echo "The cat sat ." | rnnkit tag runs/ewt        # stdin
rnnkit tag runs/ewt tokens.txt --input columns    # one token per line, blank line between sentences

Output (--output): "columns" (token<TAB>tag, a blank line after each sentence; the default for
text and column input) or "conllu" (the default for CoNLL-U input). CoNLL-U input comes back
whole, comments, multi-word ranges, empty nodes and every other field included, with the model's
tag written into the UPOS (or XPOS) field of each word.
"""

from __future__ import annotations

import argparse
import sys

from rnnkit.cli.options import intermixed
from rnnkit.data import (
    TaggedSentences,
    conllu_lines,
    format_columns,
    format_conllu,
    looks_like_conllu,
    parse_tagged,
    read_text,
)
from rnnkit.tasks import load
from rnnkit.train.device import check_device


def add_parser(sub) -> None:
    p = sub.add_parser(
        "tag",
        help="tag tokens with a trained tagger",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("checkpoint", help="a tagger checkpoint (.safetensors) or its run directory")
    p.add_argument("file", nargs="?", help="input file (default: stdin)")
    p.add_argument(
        "--input",
        choices=["auto", "text", "conllu", "columns"],
        default="auto",
        help="auto (default): CoNLL-U by suffix or shape, else plain text, one sentence per line",
    )
    p.add_argument("--output", choices=["columns", "conllu"], help="default: conllu for CoNLL-U input, else columns")
    p.add_argument("--batch-size", type=int, default=64, help="sentences per batch")
    p.add_argument("--device", default="cpu", help="cpu (default), cuda, ...")
    p.set_defaults(run=run)
    intermixed(p)  # "rnnkit tag RUN --output conllu FILE"


def read_input(path: str | None, kind: str) -> tuple[TaggedSentences, str, str]:
    """The sentences to tag, the input format they came in, and the input text."""
    name = "<stdin>" if path is None else path
    raw = sys.stdin.read() if path is None else read_text(path)
    if not raw:  # read_text says the same of an empty file
        raise ValueError(f"data: {name} is empty; expected at least one character of text")
    # decide the format before parsing: plain text must not be parsed (and rejected) as columns
    if kind == "conllu" or (kind == "auto" and looks_like_conllu(name, raw)):
        return parse_tagged(raw, name, "conllu", with_tags=False), "conllu", raw
    if kind == "columns":
        return parse_tagged(raw, name, "columns", with_tags=False), "columns", raw
    lines = [line.split() for line in conllu_lines(raw)]  # "\n"-separated, as every reader splits
    tokens = [toks for toks in lines if toks]
    origins = [f"{name}:{i + 1}" for i, toks in enumerate(lines) if toks]
    if not tokens:
        raise ValueError(f"tag: {name} has no sentences; expected one sentence per line")
    return TaggedSentences(tokens, None, origins), "text", raw


def run(args) -> int:
    if args.batch_size < 1:
        raise ValueError(f"tag: expected --batch-size >= 1, got {args.batch_size}")
    tagger = load(args.checkpoint, device=check_device(args.device, allow_auto=False), expect="tag")
    sentences, kind, raw = read_input(args.file, args.input)
    output = args.output or ("conllu" if kind == "conllu" else "columns")
    tags = tagger.tag(sentences.tokens, args.batch_size)
    column = tagger.meta["config"]["data"].get("column", "upos")
    if kind == "conllu" and output == "conllu":
        sys.stdout.write(fill_conllu(raw, [t for row in tags for t in row], column))
        return 0
    for tokens, row in zip(sentences.tokens, tags, strict=True):
        sys.stdout.write(format_conllu(tokens, row, column) if output == "conllu" else format_columns(tokens, row))
    return 0


def fill_conllu(text: str, tags: list[str], column: str) -> str:
    """``text`` (CoNLL-U) with ``tags`` written, in order, into the tag field of every word line
    (integer ID); comments, blank lines, ranges (1-2) and empty nodes (8.1) pass through unchanged."""
    field = {"upos": 3, "xpos": 4}[column]
    out, it, lines = [], iter(tags), conllu_lines(text)
    if lines[-1] == "":  # the final "\n"
        lines.pop()
    for line in lines:
        cells = line.split("\t")
        if not line.startswith("#") and len(cells) == 10 and cells[0].isdigit():
            cells[field] = next(it)
            line = "\t".join(cells)
        out.append(line)
    assert next(it, None) is None, "every tag has its word line"
    return "\n".join(out) + "\n"
