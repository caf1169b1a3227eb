"""Sequence tagging data: sentences of tokens with one tag per token (part-of-speech and the like).

Two file formats, both with a blank line between sentences, ``"\\r\\n"`` line ends allowed, a
missing final blank line allowed, and a ``.gz`` suffix for gzip:

- **CoNLL-U** (Universal Dependencies): one token per line with 10 tab-separated fields
  ``ID FORM LEMMA UPOS XPOS FEATS HEAD DEPREL DEPS MISC``::

      # sent_id = 1
      1-2<TAB>don't<TAB>_ ...        <- multi-word token range: skipped
      1<TAB>do<TAB>do<TAB>AUX<TAB>VBP<TAB>_<TAB>_<TAB>_<TAB>_<TAB>_
      2<TAB>n't<TAB>not<TAB>PART<TAB>RB<TAB>_<TAB>_<TAB>_<TAB>_<TAB>_
      8.1<TAB>...                     <- empty node: skipped

  Lines starting with ``#`` are comments. The tokens are the FORMs (which may hold spaces) and
  the tags come from the UPOS or the XPOS field (``column``), where ``_`` means "no tag".
- **columns**: ``token<TAB>tag`` per line. Without tags, one token per line (the first field of a
  line with tabs). ``#`` starts no comment here: it is a token like any other.

:func:`read_tagged` picks the format from the suffix (``.conllu``) or the first line that is not
blank or a ``#`` comment (10 tab-separated fields: CoNLL-U). :func:`format_conllu` and
:func:`format_columns` write one sentence back, e.g. predicted tags, in a form the readers read.

Every sentence keeps its origin ``"path:line"`` (its first token) for later error messages.
Needs nothing beyond the standard library (no torch).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from ..errors import DataError
from .text import read_text

PathLike = str | os.PathLike

#: The CoNLL-U fields a tag can come from, and their 0-based positions.
TAG_COLUMNS = ("upos", "xpos")
_TAG_FIELD = {"upos": 3, "xpos": 4}
_CONLLU_FIELDS = 10

FORMATS = ("auto", "conllu", "columns")


@dataclass
class TaggedSentences:
    """Sentences ``tokens[i]`` with tags ``tags[i]`` (one per token; ``tags`` is None without tags)."""

    tokens: list[list[str]]
    tags: list[list[str]] | None
    origins: list[str]

    def __post_init__(self) -> None:
        if len(self.tokens) != len(self.origins) or (self.tags is not None and len(self.tags) != len(self.tokens)):
            raise DataError(
                f"data: {len(self.tokens)} sentences with {len(self.origins)} origins"
                f"{'' if self.tags is None else f' and {len(self.tags)} tag lists'}; "
                f"expected one origin (and tag list) per sentence"
            )

    def __len__(self) -> int:
        return len(self.tokens)


# ----- reading ----------------------------------------------------------------------------------
def read_conllu(
    path: PathLike, column: str = "upos", with_tags: bool = True, encoding: str = "utf-8", errors: str = "strict"
) -> TaggedSentences:
    """Read a CoNLL-U file: FORMs as tokens, tags from the UPOS or XPOS field.

    Raises:
        DataError: a missing file or directory; a token line without 10 tab-separated fields or with
            a bad ID; with tags, a ``_`` or empty tag; no sentences (each naming path:line).
    """
    column = _check_column(column)
    path = Path(path)
    return _parse_conllu(_read(path, encoding, errors), path, column, with_tags)


def read_columns(
    path: PathLike, with_tags: bool = True, encoding: str = "utf-8", errors: str = "strict"
) -> TaggedSentences:
    """Read ``token<TAB>tag`` lines (or one token per line without tags), blank lines between sentences.

    Raises:
        DataError: a missing file; with tags, a line without exactly 2 tab-separated fields; an empty
            token or tag; no sentences (each naming path:line).
    """
    path = Path(path)
    return _parse_columns(_read(path, encoding, errors), path, with_tags)


def read_tagged(
    path: PathLike,
    format: str = "auto",
    column: str = "upos",
    with_tags: bool = True,
    encoding: str = "utf-8",
    errors: str = "strict",
) -> TaggedSentences:
    """Read a tagged file as CoNLL-U or columns; ``format="auto"`` tells them apart (see the module doc)."""
    if format not in FORMATS:  # before reading: a bad option is reported as such, even for a bad path
        raise DataError(f"data: unknown tagged-data format {format!r}; expected one of {', '.join(FORMATS)}")
    _check_column(column)
    path = Path(path)
    return parse_tagged(_read(path, encoding, errors), path, format, column, with_tags)


def parse_tagged(
    text: str, name: PathLike, format: str = "auto", column: str = "upos", with_tags: bool = True
) -> TaggedSentences:
    """Parse tagged text already read (e.g. from stdin); ``name`` stands for its file in messages."""
    if format not in FORMATS:
        raise DataError(f"data: unknown tagged-data format {format!r}; expected one of {', '.join(FORMATS)}")
    column, path = _check_column(column), Path(name)
    if format == "auto":
        format = "conllu" if looks_like_conllu(path, text) else "columns"
    if format == "conllu":
        return _parse_conllu(text, path, column, with_tags)
    return _parse_columns(text, path, with_tags)


def _check_column(column: str) -> str:
    name = column.lower() if isinstance(column, str) else column
    if name not in TAG_COLUMNS:
        raise DataError(f"data: unknown tag column {column!r}; expected one of {', '.join(TAG_COLUMNS)}")
    return name


def _read(path: Path, encoding: str, errors: str) -> str:
    if path.is_dir():
        raise DataError(f"data: {path} is a directory; expected a CoNLL-U or token<TAB>tag file")
    if path.exists() and path.stat().st_size == 0:
        raise DataError(f"data: {path} has no sentences; expected tokens, one per line, blank lines between sentences")
    return read_text(path, encoding, errors)


def conllu_lines(text: str) -> list[str]:
    """The lines of ``text`` without their ``"\\n"`` or ``"\\r\\n"``: CoNLL-U lines end in "\\n" only, so
    U+2028, U+2029, \\x0b, \\x0c, \\x1c-\\x1e and \\x85 (which ``str.splitlines`` also breaks at) stay inside
    a line, e.g. in a FORM. Every reader and writer of these formats splits with this."""
    return [line[:-1] if line.endswith("\r") else line for line in text.split("\n")]


def looks_like_conllu(path: PathLike, text: str) -> bool:
    """A ``.conllu`` (``.conllu.gz``) name, or a first non-comment line of 10 tab-separated fields."""
    path = Path(path)
    name = path.name[:-3] if path.name.endswith(".gz") else path.name
    if name.lower().endswith(".conllu"):
        return True
    for line in conllu_lines(text):
        if line.strip() and not line.startswith("#"):
            return len(line.split("\t")) == _CONLLU_FIELDS
    return False


class _Sentences:
    """Collects sentences: tokens and tags until a blank line closes the sentence."""

    def __init__(self, with_tags: bool):
        self.with_tags = with_tags
        self.tokens: list[list[str]] = []
        self.tags: list[list[str]] = []
        self.origins: list[str] = []
        self._tokens: list[str] = []
        self._tags: list[str] = []
        self._origin = ""

    def add(self, token: str, tag: str, where: str) -> None:
        if not self._tokens:
            self._origin = where
        self._tokens.append(token)
        self._tags.append(tag)

    def close(self) -> None:
        if self._tokens:
            self.tokens.append(self._tokens)
            self.tags.append(self._tags)
            self.origins.append(self._origin)
            self._tokens, self._tags = [], []

    def result(self, path: Path, expected: str) -> TaggedSentences:
        self.close()
        if not self.tokens:
            raise DataError(f"data: {path} has no sentences; expected {expected}")
        return TaggedSentences(self.tokens, self.tags if self.with_tags else None, self.origins)


def _parse_conllu(text: str, path: Path, column: str, with_tags: bool) -> TaggedSentences:
    field = _TAG_FIELD[column]
    out = _Sentences(with_tags)
    for number, line in enumerate(conllu_lines(text), 1):
        if not line.strip():
            out.close()
            continue
        if line.startswith("#"):
            continue
        where = f"{path}:{number}"
        fields = line.split("\t")
        if len(fields) != _CONLLU_FIELDS:
            raise DataError(f"data: {where}: expected {_CONLLU_FIELDS} tab-separated CoNLL-U fields, got {len(fields)}")
        token_id, form = fields[0], fields[1]
        if "-" in token_id or "." in token_id:
            continue  # a multi-word token range or an empty node: not a word of the sentence
        if not token_id.isdigit():
            raise DataError(f"data: {where}: bad CoNLL-U ID {token_id!r}; expected a number, a range 1-2 or 8.1")
        if not form:
            raise DataError(f"data: {where}: empty FORM; expected the token in field 2")
        tag = fields[field].strip()
        if with_tags and tag in ("", "_"):
            raise DataError(
                f"data: {where}: no {column.upper()} tag; expected a tag in field {field + 1}, or read without tags"
            )
        out.add(form, tag, where)
    return out.result(path, "CoNLL-U token lines (10 tab-separated fields) with blank lines between sentences")


def _parse_columns(text: str, path: Path, with_tags: bool) -> TaggedSentences:
    out = _Sentences(with_tags)
    for number, line in enumerate(conllu_lines(text), 1):
        if not line.strip():
            out.close()
            continue
        where = f"{path}:{number}"
        fields = line.split("\t")
        if with_tags and len(fields) != 2:
            s = "" if len(fields) == 1 else "s"
            raise DataError(f"data: {where}: expected 'token<TAB>tag', got {len(fields)} field{s}")
        token, tag = fields[0], (fields[1].strip() if with_tags else "")
        if not token.strip():
            raise DataError(f"data: {where}: empty token; expected 'token<TAB>tag' with a non-blank token")
        if with_tags and not tag:
            raise DataError(f"data: {where}: empty tag; expected 'token<TAB>tag' with a non-blank tag")
        out.add(token, tag, where)
    form = "'token<TAB>tag' lines" if with_tags else "tokens, one per line,"
    return out.result(path, f"{form} with blank lines between sentences")


# ----- writing ----------------------------------------------------------------------------------
def format_conllu(tokens: list[str], tags: list[str], column: str = "upos") -> str:
    """One sentence as CoNLL-U lines ``i FORM _ UPOS _ _ _ _ _ _`` (tag in XPOS for ``"xpos"``), then a blank line."""
    column = _check_column(column)
    _check_sentence(tokens, tags)
    lines = []
    for i, (token, tag) in enumerate(zip(tokens, tags), 1):
        fields = [str(i), token] + ["_"] * (_CONLLU_FIELDS - 2)
        fields[_TAG_FIELD[column]] = tag
        lines.append("\t".join(fields) + "\n")
    return "".join(lines) + "\n"


def format_columns(tokens: list[str], tags: list[str]) -> str:
    """One sentence as ``token<TAB>tag`` lines, then a blank line."""
    _check_sentence(tokens, tags)
    return "".join(f"{token}\t{tag}\n" for token, tag in zip(tokens, tags)) + "\n"


def _check_sentence(tokens: list[str], tags: list[str]) -> None:
    if not tokens or len(tokens) != len(tags):
        raise DataError(
            f"data: a sentence of {len(tokens)} tokens and {len(tags)} tags; expected at least one token and "
            f"one tag per token"
        )
    for token in tokens:
        if not isinstance(token, str) or not token.strip() or any(c in token for c in "\t\r\n"):
            raise DataError(f"data: bad token {token!r}; expected a non-blank str without tabs or newlines")
    for tag in tags:
        if not isinstance(tag, str) or not tag or tag == "_" or any(c.isspace() for c in tag):
            raise DataError(f"data: bad tag {tag!r}; expected a non-empty str without whitespace, not '_'")
