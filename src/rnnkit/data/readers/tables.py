"""Sequence classification data: texts with one label each, read from a table or from per-class files.

:func:`read_labelled` tells the layout from its paths:

- **one directory**: one class per regular file, sorted by name, labelled by the file name without
  its suffix (and ``.gz``): ``names/Arabic.txt`` -> ``"Arabic"``. Hidden, ``README*`` and ``*.md``
  files (``SOURCE.md``) and subdirectories are skipped.
- **one table**: ``*.tsv`` / ``*.tab`` (tab) or ``*.csv`` (comma), ``.gz`` allowed, or any one file
  given a ``delimiter``. CSV follows the csv quoting rules (``"a, b"`` is one cell); tab-separated
  text has no quoting (SST-2 sentences hold bare ``"``). Blank rows are skipped, cells are stripped.
  ``header="auto"`` takes the first row as a header when it holds a column name given as an option,
  or a usual name (:data:`TEXT_NAMES`, :data:`LABEL_NAMES`, any case), or when its label cell is not
  a number while those of the next (up to 100) rows all are. Text defaults to the leftmost usual
  text name (else column 0), the label to the leftmost usual label name (else the last column);
  without a header, column 0 and the last column. A row with more cells than the header (or the
  first row) is an error: in a TSV, a tab inside the text.
- **two or more files**: one per class. The label is the file name without its last suffix if
  those all differ, else the suffix if those all differ (``rt-polarity.pos`` -> ``"pos"``).

Per-class files give one example per non-blank line, stripped. Labels stay the raw strings (a
regression target is a numeric string); mapping them to ids and requiring two classes
(:func:`rnnkit.data.splits.check_classes`) is the caller's business. Each example keeps its origin
``"path:line"``. :func:`rnnkit.data.splits.split_indices` cuts the examples at random into train / val
(/ test), stratified by label.
Needs numpy only (no torch).
"""

from __future__ import annotations

import csv
import math
import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

import numpy as np

from ..errors import DataError
from .text import read_text

PathLike = str | os.PathLike

#: Table suffixes (after removing a trailing ``.gz``) and their delimiters.
TABLE_DELIMITERS = {".tsv": "\t", ".tab": "\t", ".csv": ","}

#: Header names that mark the text column, and the label column, in this order of preference.
TEXT_NAMES = ("sentence", "text", "review", "content", "document", "name")
LABEL_NAMES = ("label", "labels", "class", "category", "target", "sentiment", "y")

HEADER_MODES = ("auto", "yes", "no")

#: How many rows after the first the header sniffing looks at.
_SNIFF_ROWS = 100


@dataclass
class LabelledExamples:
    """Examples for sequence classification: ``texts[i]`` has label ``labels[i]``, read at ``origins[i]``."""

    texts: list[str]
    labels: list[str]
    origins: list[str]

    def __post_init__(self) -> None:
        if not len(self.texts) == len(self.labels) == len(self.origins):
            raise DataError(
                f"data: {len(self.texts)} texts, {len(self.labels)} labels and {len(self.origins)} origins; "
                f"expected one label and one origin per text"
            )

    def __len__(self) -> int:
        return len(self.texts)

    def subset(self, indices: Iterable[int]) -> LabelledExamples:
        """The examples at ``indices`` (0-based, in the order given)."""
        picked = [_check_index(i, len(self)) for i in indices]
        return LabelledExamples(
            [self.texts[i] for i in picked], [self.labels[i] for i in picked], [self.origins[i] for i in picked]
        )


def _check_index(i, n: int) -> int:
    if isinstance(i, bool) or not isinstance(i, (int, np.integer)) or not 0 <= i < n:
        raise DataError(f"data: bad example index {i!r}; expected an int from 0 to {n - 1}")
    return int(i)


# ----- reading ----------------------------------------------------------------------------------
def read_labelled(
    paths: Sequence[PathLike] | PathLike,
    *,
    text_column: str | int | None = None,
    label_column: str | int | None = None,
    delimiter: str | None = None,
    header: str = "auto",
    encoding: str = "utf-8",
    errors: str = "strict",
) -> LabelledExamples:
    """Read labelled examples from a directory, a TSV/CSV table, or one file per class (see the module doc).

    Args:
        paths: one directory, one table, or two or more class files (or a single path, not in a list).
        text_column, label_column: a table's columns, each a header name or a 0-based column number.
        delimiter: read the one file as a table with this delimiter (``"tab"`` is a tab).
        header: ``"auto"``, ``"yes"`` or ``"no"``: whether a table's first row names its columns.
        encoding, errors: as in :func:`rnnkit.data.readers.text.read_text`.

    Raises:
        DataError: a missing path, a file without examples, an unknown layout, table options for class
            files, a bad column, a bad row, an empty text or label (naming path:line).
    """
    files = _as_paths(paths)
    _check_column(text_column, "--text-column")
    _check_column(label_column, "--label-column")
    if header not in HEADER_MODES:
        raise DataError(f"data: unknown header mode {header!r}; expected one of {', '.join(HEADER_MODES)}")
    delimiter = _check_delimiter(delimiter)
    for path in files:
        if not path.exists():
            raise DataError(f"data: no such file or directory: {path}")
    if len(files) == 1 and not files[0].is_dir():
        path = files[0]
        sep = delimiter or TABLE_DELIMITERS.get(Path(_strip_gz(path.name)).suffix.lower())
        if sep is None:
            raise DataError(
                f"data: {path} is one plain file; expected a TSV/CSV table with text and label columns, "
                f"a directory with one file per class, or two or more files, one per class"
            )
        return _read_table(path, sep, text_column, label_column, header, encoding, errors)
    _check_no_table_options(text_column, label_column, delimiter, header)
    if len(files) == 1:
        classes = _class_files_in(files[0])
        return _read_class_files(classes, [_stem(p.name) for p in classes], encoding, errors)
    return _read_class_files(files, _labels_of_files(files), encoding, errors)


def _as_paths(paths) -> list[Path]:
    if isinstance(paths, (str, os.PathLike)):
        return [Path(paths)]
    if not isinstance(paths, Sequence) or isinstance(paths, (bytes, bytearray)) or not paths:
        raise DataError(f"data: expected one or more paths (str or Path), got {paths!r}")
    for p in paths:
        if not isinstance(p, (str, os.PathLike)):
            raise DataError(f"data: expected a path (str or Path) in the list of paths, got {type(p).__name__}")
    return [Path(p) for p in paths]


def _check_column(value, option: str) -> None:
    ok = value is None or (isinstance(value, str) and value) or (type(value) is int and value >= 0)
    if not ok:
        raise DataError(f"data: bad {option} {value!r}; expected a header name or a 0-based column number")


def _check_delimiter(delimiter: str | None) -> str | None:
    if delimiter in ("tab", "\\t"):
        return "\t"
    if delimiter is not None and (not isinstance(delimiter, str) or len(delimiter) != 1 or delimiter in '\r\n"'):
        raise DataError(f"data: bad delimiter {delimiter!r}; expected one character such as ',' or 'tab'")
    return delimiter


def _check_no_table_options(text_column, label_column, delimiter, header: str) -> None:
    given = {"--text-column": text_column, "--label-column": label_column, "--delimiter": delimiter}
    options = [name for name, value in given.items() if value is not None] + (["--header"] if header != "auto" else [])
    if options:
        raise DataError(
            f"data: {', '.join(options)} given for per-class files; expected these options only with one TSV/CSV table"
        )


def _strip_gz(name: str) -> str:
    return name[:-3] if name.endswith(".gz") else name


def _stem(name: str) -> str:
    return Path(_strip_gz(name)).stem


# ----- one file per class -----------------------------------------------------------------------
def _class_files_in(directory: Path) -> list[Path]:
    """The class files of a directory: regular files, not hidden, not README* or *.md; sorted by name."""
    files = sorted((p for p in directory.iterdir() if p.is_file() and not _skipped(p.name)), key=lambda p: p.name)
    if not files:
        raise DataError(
            f"data: directory {directory} has no class files; expected one file per class, named after it "
            f"(e.g. Arabic.txt)"
        )
    seen: dict[str, str] = {}
    for p in files:
        label = _stem(p.name)
        if label in seen:
            raise DataError(
                f"data: directory {directory} has two files for class {label!r} ({seen[label]}, {p.name}); "
                f"expected one file per class"
            )
        seen[label] = p.name
    return files


def _skipped(name: str) -> bool:
    return name.startswith(".") or name.upper().startswith("README") or name.lower().endswith(".md")


def _labels_of_files(files: list[Path]) -> list[str]:
    """Labels for two or more class files: their stems if distinct, else their suffixes if distinct."""
    seen: set[Path] = set()
    for p in files:
        if p.is_dir():
            raise DataError(f"data: {p} is a directory; expected files only when giving two or more paths")
        key = p.resolve()
        if key in seen:
            raise DataError(f"data: {p} is given twice; expected each class file once")
        seen.add(key)
    names = [Path(_strip_gz(p.name)) for p in files]
    stems = [n.stem for n in names]
    if len(set(stems)) == len(stems):
        return stems
    suffixes = [n.suffix[1:] for n in names]
    if all(suffixes) and len(set(suffixes)) == len(suffixes):
        return suffixes
    raise DataError(
        f"data: cannot tell the classes of {', '.join(str(p) for p in files)} apart; expected file names whose "
        f"stems (pos.txt, neg.txt) or suffixes (rt-polarity.pos, rt-polarity.neg) all differ"
    )


def _read_class_files(files: list[Path], labels: list[str], encoding: str, errors: str) -> LabelledExamples:
    texts: list[str] = []
    out_labels: list[str] = []
    origins: list[str] = []
    for path, label in zip(files, labels):
        for line, text in _example_lines(path, encoding, errors):
            texts.append(text)
            out_labels.append(label)
            origins.append(f"{path}:{line}")
    return LabelledExamples(texts, out_labels, origins)


def _example_lines(path: Path, encoding: str, errors: str) -> list[tuple[int, str]]:
    """(line number, stripped line) for every non-blank line of a file."""
    lines = [(i, s) for i, line in enumerate(_read(path, encoding, errors).split("\n"), 1) if (s := line.strip())]
    return lines or _no_examples(path)


def _read(path: Path, encoding: str, errors: str) -> str:
    return read_text(path, encoding, errors) if path.stat().st_size else _no_examples(path)


def _no_examples(path: Path) -> NoReturn:
    raise DataError(f"data: {path} has no examples; expected at least one non-blank line")


# ----- tables -----------------------------------------------------------------------------------
Row = tuple[int, list[str]]  # (line number where the row starts, its cells)


def _read_table(path: Path, sep: str, text_column, label_column, header: str, encoding: str, errors: str):
    rows = _table_rows(path, sep, encoding, errors)
    names = [c.strip() for c in rows[0][1]] if _has_header(rows, text_column, label_column, header) else None
    body = rows[1:] if names is not None else rows
    if not body:
        raise DataError(f"data: {path} has no examples; expected at least one row after the header row")
    width = len(names) if names is not None else len(rows[0][1])
    text_at, label_at = _columns(path, names, width, text_column, label_column)
    need = max(text_at, label_at) + 1
    texts: list[str] = []
    labels: list[str] = []
    origins: list[str] = []
    for line, cells in body:
        where = f"{path}:{line}"
        if len(cells) > width:
            first = "header" if names is not None else "first"
            raise DataError(f"data: {where}: {len(cells)} fields; expected {width} like the {first} row")
        if len(cells) < need:
            what = "label" if len(cells) <= label_at else "text"
            raise DataError(f"data: {where}: no {what} ({len(cells)} fields, expected at least {need})")
        label, text = cells[label_at].strip(), cells[text_at].strip()
        if not label:
            raise DataError(f"data: {where}: empty label; expected a label in column {_describe(label_at, names)}")
        if not text:
            raise DataError(f"data: {where}: empty text; expected text in column {_describe(text_at, names)}")
        texts.append(text)
        labels.append(label)
        origins.append(where)
    return LabelledExamples(texts, labels, origins)


def _table_rows(path: Path, sep: str, encoding: str, errors: str) -> list[Row]:
    """The non-blank rows of a table, each with the line it starts on."""
    text = _read(path, encoding, errors)
    quoting = csv.QUOTE_NONE if sep == "\t" else csv.QUOTE_MINIMAL
    reader = csv.reader(_csv_lines(text), delimiter=sep, quoting=quoting)
    rows: list[Row] = []
    start = 1
    try:
        for cells in reader:
            if any(c.strip() for c in cells):
                rows.append((start, cells))
            start = reader.line_num + 1
    except csv.Error as e:
        raise DataError(f"data: {path}:{reader.line_num}: {e}; expected a well-formed table row") from None
    return rows or _no_examples(path)


def _csv_lines(text: str) -> Iterator[str]:
    """The lines of ``text`` for csv.reader: each ending in one ``"\\n"`` (a ``"\\r\\n"`` becomes ``"\\n"``)."""
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    for line in lines:
        yield (line[:-1] if line.endswith("\r") else line) + "\n"


def _has_header(rows: list[Row], text_column, label_column, header: str) -> bool:
    if header != "auto":
        return header == "yes"
    first = [c.strip() for c in rows[0][1]]
    lowered = {c.lower() for c in first}
    if any(isinstance(c, str) and c.lower() in lowered for c in (text_column, label_column)):
        return True
    if lowered & set(TEXT_NAMES + LABEL_NAMES):
        return True
    at = label_column if isinstance(label_column, int) else len(first) - 1
    following = [cells for _, cells in rows[1 : 1 + _SNIFF_ROWS]]
    return (
        at < len(first)
        and not _is_number(first[at])
        and bool(following)
        and all(at < len(cells) and _is_number(cells[at]) for cells in following)
    )


def _is_number(cell: str) -> bool:
    try:
        return math.isfinite(float(cell))
    except ValueError:
        return False


def _columns(path: Path, names: list[str] | None, width: int, text_column, label_column) -> tuple[int, int]:
    """The 0-based (text, label) columns of a table with ``width`` columns and header ``names`` (or None)."""
    if names is None:
        for value in (text_column, label_column):
            if isinstance(value, str):
                raise DataError(
                    f"data: {path} has no header row; expected --text-column/--label-column as 0-based "
                    f"column numbers, got {value!r}"
                )
        text_at = 0 if text_column is None else text_column
        label_at = width - 1 if label_column is None else label_column
    else:
        text_at = _column(path, names, text_column) if text_column is not None else _usual(names, TEXT_NAMES, 0)
        label_at = (
            _column(path, names, label_column) if label_column is not None else _usual(names, LABEL_NAMES, width - 1)
        )
    for option, at in (("--text-column", text_at), ("--label-column", label_at)):
        if at >= width:
            raise DataError(f"data: {path} has {width} column(s); expected {option} below {width}, got {at}")
    if text_at == label_at:
        raise DataError(
            f"data: {path}: text and label would both be column {_describe(text_at, names)}; expected two "
            f"different columns, set --text-column and --label-column"
        )
    return text_at, label_at


def _column(path: Path, names: list[str], value: str | int) -> int:
    if isinstance(value, int):
        return value
    if value in names:
        return names.index(value)
    folded = [i for i, n in enumerate(names) if n.lower() == value.lower()]
    if len(folded) == 1:
        return folded[0]
    raise DataError(f"data: {path} has no column {value!r}; expected one of {names}")


def _usual(names: list[str], usual: tuple[str, ...], default: int) -> int:
    """The leftmost header cell that is one of the usual names (any case), else ``default``."""
    return next((i for i, n in enumerate(names) if n.lower() in usual), default)


def _describe(at: int, names: list[str] | None) -> str:
    return f"{at} ({names[at]!r})" if names is not None else str(at)
