"""``rnnkit tag CHECKPOINT [TEXT...]``: tag words with a trained tagger.

rnnkit tag runs/ewt "it's not butter!" "I can't go."   # texts: one sentence each
rnnkit tag runs/ewt --file sentences.txt           # plain text: one sentence per line
rnnkit tag runs/ewt en_ewt-ud-test.conllu          # CoNLL-U in (its tags are ignored), CoNLL-U out
echo "The cat sat." | rnnkit tag runs/ewt          # stdin
rnnkit tag runs/ewt --file tokens.txt --input columns   # one token per line, blank line between sentences

Plain text (texts given as arguments, or a file or stdin that is neither CoNLL-U nor --input
columns) is cut into words as UD English EWT cuts them, the words the tagger learned from its
treebank: "it's not butter!" -> it 's not butter !, "can't" -> ca n't, "U.S." and "3.5" kept
(rnnkit.data.ud_tokenize has the whole rule). --input tokens takes text already tokenised:
whitespace-separated tokens, as given. CoNLL-U and columns keep their own tokens.

Where the input comes from: --file FILE; else the arguments: a single argument that names an
existing file is read as that file (as before texts were accepted; pass a text that is also a file
name on stdin), and a single word ending in .txt, .conllu, .tsv, .csv or .gz that names none is an
error (a mistyped file name); any other arguments are texts; none: stdin.

Output (--output): "columns" (token<TAB>tag, a blank line after each sentence; the default for
text and column input) or "conllu" (the default for CoNLL-U input). CoNLL-U input comes back
whole, comments, multi-word ranges, empty nodes and every other field included, with the model's
tag written into the UPOS (or XPOS) field of each word.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from rnnkit.cli.options import intermixed
from rnnkit.data import (
    TaggedSentences,
    conllu_lines,
    format_columns,
    format_conllu,
    looks_like_conllu,
    parse_tagged,
    plain_sentences,
    read_text,
    ud_tokenize,
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
    p.add_argument(
        "texts",
        nargs="*",
        metavar="TEXT",
        help="texts to tag, one sentence each; a single argument naming an existing file reads that file "
        "(default: stdin)",
    )
    p.add_argument("--file", metavar="FILE", help="read the input from FILE (text, CoNLL-U or columns)")
    p.add_argument(
        "--input",
        choices=["auto", "text", "tokens", "conllu", "columns"],
        default="auto",
        help="auto (default): CoNLL-U by suffix or shape, else plain text, one sentence per line; text: plain "
        "text, cut into words as UD English EWT cuts them; tokens: whitespace-separated tokens as given",
    )
    p.add_argument("--output", choices=["columns", "conllu"], help="default: conllu for CoNLL-U input, else columns")
    p.add_argument("--batch-size", type=int, default=64, help="sentences per batch")
    p.add_argument("--device", default="cpu", help="cpu (default), cuda, ...")
    p.set_defaults(run=run)
    intermixed(p)  # "rnnkit tag RUN --output conllu FILE"


#: One argument that can only be a file name (a mistyped one: tagging it as a text would hide the typo).
_FILE_NAME = re.compile(r"\S+\.(?:txt|conllu|tsv|csv|gz)", re.IGNORECASE)


def read_input(path: str | None, kind: str) -> tuple[TaggedSentences, str, str]:
    """The sentences to tag from a file (or stdin), the input format they came in, and the input text."""
    name = "<stdin>" if path is None else path
    raw = sys.stdin.read() if path is None else read_text(path)
    if not raw:  # read_text says the same of an empty file
        raise ValueError(f"data: {name} is empty; expected at least one character of text")
    # decide the format before parsing: plain text must not be parsed (and rejected) as columns
    if kind == "conllu" or (kind == "auto" and looks_like_conllu(name, raw)):
        return parse_tagged(raw, name, "conllu", with_tags=False), "conllu", raw
    if kind == "columns":
        return parse_tagged(raw, name, "columns", with_tags=False), "columns", raw
    sentences = plain_sentences(raw, name, str.split if kind == "tokens" else ud_tokenize)
    if not sentences:
        raise ValueError(f"tag: {name} has no sentences; expected one sentence per line")
    return sentences, "text", raw


def read_texts(texts: list[str], kind: str) -> TaggedSentences:
    """Texts given as arguments, one sentence each (plain text, or tokens with --input tokens)."""
    if kind not in ("auto", "text", "tokens"):
        raise ValueError(
            f"tag: --input {kind} reads a file or stdin (--file FILE); got {len(texts)} texts as arguments"
        )
    split = str.split if kind == "tokens" else ud_tokenize
    tokens = [split(text) for text in texts]
    for i, words in enumerate(tokens):
        if not words:
            raise ValueError(f"tag: text {i + 1} is empty; expected at least one word")
    return TaggedSentences(tokens, None, [f"text {i + 1}" for i in range(len(texts))])


def sentences_of(args) -> tuple[TaggedSentences, str, str | None]:
    """Where the input comes from (see the module doc): (sentences, input format, raw text of a file)."""
    if args.file is not None and args.texts:
        raise ValueError(f"tag: expected texts or --file, got both (--file {args.file} and {len(args.texts)} texts)")
    path = args.file
    if path is None and len(args.texts) == 1 and Path(args.texts[0]).is_file():
        path = args.texts[0]  # "rnnkit tag RUN FILE", as before texts were accepted
    elif path is None and len(args.texts) == 1 and _FILE_NAME.fullmatch(args.texts[0]):
        raise ValueError(f"tag: no such file: {args.texts[0]}; expected an existing file, or texts to tag")
    if path is not None or not args.texts:
        return read_input(path, args.input)
    return read_texts(args.texts, args.input), "text", None


def run(args) -> int:
    if args.batch_size < 1:
        raise ValueError(f"tag: expected --batch-size >= 1, got {args.batch_size}")
    tagger = load(args.checkpoint, device=check_device(args.device, allow_auto=False), expect="tag")
    sentences, kind, raw = sentences_of(args)
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
