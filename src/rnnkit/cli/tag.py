"""``rnnkit tag CHECKPOINT [FILE]``: tag tokens with a trained tagger.

rnnkit tag runs/ewt sentences.txt                 # plain text: one sentence per line, whitespace tokens
rnnkit tag runs/ewt en_ewt-ud-test.conllu         # CoNLL-U in (its tags are ignored), CoNLL-U out
echo "The cat sat ." | rnnkit tag runs/ewt        # stdin
rnnkit tag runs/ewt tokens.txt --input columns    # one token per line, blank line between sentences

Output (--output): "columns" (token<TAB>tag, a blank line after each sentence; the default for
text and column input) or "conllu" (the default for CoNLL-U input).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from rnnkit.cli.predict import intermixed
from rnnkit.data.tagged import TaggedSentences, format_columns, format_conllu, read_tagged
from rnnkit.infer import load


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


def read_input(path: str | None, kind: str) -> tuple[TaggedSentences, str]:
    """The sentences to tag and the input format they came in."""
    if path is None:
        text = sys.stdin.read()
        with tempfile.TemporaryDirectory() as tmp:
            p = Path(tmp) / "stdin"
            p.write_text(text, encoding="utf-8")
            try:
                return read_input(str(p), kind)
            except ValueError as e:  # name the input, not a temporary file that is gone
                raise ValueError(str(e).replace(str(p), "<stdin>")) from None
    # decide the format before parsing: plain text must not be parsed (and rejected) as columns
    if kind == "conllu" or (
        kind == "auto" and (Path(path).name.endswith((".conllu", ".conllu.gz")) or _looks_conllu(path))
    ):
        return read_tagged(path, "conllu", with_tags=False), "conllu"
    if kind == "columns":
        return read_tagged(path, "columns", with_tags=False), "columns"
    from rnnkit.data import read_text

    lines = [line.split() for line in read_text(path).splitlines()]
    tokens = [toks for toks in lines if toks]
    origins = [f"{path}:{i + 1}" for i, toks in enumerate(lines) if toks]
    if not tokens:
        raise ValueError(f"tag: {path} has no sentences; expected one sentence per line")
    return TaggedSentences(tokens, None, origins), "text"


def _looks_conllu(path: str) -> bool:
    from rnnkit.data import read_text

    for line in read_text(path).splitlines():
        if line.strip() and not line.startswith("#"):
            return len(line.split("\t")) == 10
    return False


def run(args) -> int:
    if args.batch_size < 1:
        raise ValueError(f"tag: expected --batch-size >= 1, got {args.batch_size}")
    tagger = load(args.checkpoint, device=args.device, expect="sequence_tagger")
    sentences, kind = read_input(args.file, args.input)
    output = args.output or ("conllu" if kind == "conllu" else "columns")
    tags = tagger.tag(sentences.tokens, args.batch_size)
    column = tagger.meta["config"]["data"].get("column", "upos")
    for tokens, row in zip(sentences.tokens, tags, strict=True):
        sys.stdout.write(format_conllu(tokens, row, column) if output == "conllu" else format_columns(tokens, row))
    return 0
