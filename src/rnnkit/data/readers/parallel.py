"""Translation data: parallel text, one source sentence and its translation per example.

Two layouts, each read into :class:`ParallelText`:

- **one table** (:func:`read_parallel_table`): one pair per line, tab-separated, as the Tatoeba /
  manythings files are (``source<TAB>target[<TAB>attribution ...]``). The source and target are
  the 0-based columns ``source_column`` / ``target_column`` (default 0 and 1), so ``fra-eng`` files
  read the other way round with 1 and 0. There is no quoting and no header: every line is a pair.
  A line with too few fields (one column: no tab) is an error naming the file and line.
- **two aligned files** (:func:`read_parallel_files`): line *i* of the source file is the
  translation of line *i* of the target file, as Multi30k's ``train.de.gz`` / ``train.en.gz``.
  Different line counts are an error naming both counts.

Both read ``.gz`` transparently and any codec (:func:`rnnkit.data.readers.read_text`). A ``"\\r"``
before a line end is dropped and the cells are stripped. A pair whose source or target is empty
(a blank line on either side of aligned files, an empty cell in a table) is **dropped** and
counted in :attr:`ParallelText.dropped_empty`, which the task reports; a blank line of a table is
no pair and is skipped uncounted. A file with no pair left is an error. Each pair keeps its origin
``"path:line"`` (the source file's line for aligned files).
Needs nothing beyond the standard library (no torch).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from ..errors import DataError
from .text import read_text

PathLike = str | os.PathLike

#: The pair tables' field separator.
TAB = "\t"


@dataclass
class ParallelText:
    """Source sentences, their translations, where each pair came from, and what was dropped."""

    sources: list[str]
    targets: list[str]
    origins: list[str]  # "path:line" of each pair
    dropped_empty: int = 0  # pairs left out because one side was empty

    def __post_init__(self) -> None:
        n = len(self.sources)
        assert len(self.targets) == n and len(self.origins) == n, "one target and one origin per source"

    def __len__(self) -> int:
        return len(self.sources)

    def subset(self, indices: Iterable[int]) -> ParallelText:
        """The pairs at ``indices``, in that order (what a seeded split keeps)."""
        keep = [int(i) for i in indices]
        n = len(self)
        for i in keep:
            if not 0 <= i < n:
                raise DataError(f"data: pair index {i} out of range; expected 0 <= index < {n}")
        return ParallelText(
            [self.sources[i] for i in keep], [self.targets[i] for i in keep], [self.origins[i] for i in keep]
        )

    def reversed(self) -> ParallelText:
        """The same pairs with source and target swapped (eng->fra read as fra->eng)."""
        return ParallelText(list(self.targets), list(self.sources), list(self.origins), self.dropped_empty)


def read_parallel_table(
    path: PathLike,
    source_column: int = 0,
    target_column: int = 1,
    encoding: str = "utf-8",
    errors: str = "strict",
) -> ParallelText:
    """Pairs from a tab-separated file, one per line (see the module doc).

    Raises:
        DataError: no such file, an empty file, bad columns, a line with too few fields
            (``path:line``), undecodable bytes, no pair with both sides non-empty.
    """
    path = Path(path)
    for value, option in ((source_column, "source_column"), (target_column, "target_column")):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise DataError(f"data: {option}: expected a 0-based column number >= 0, got {value!r}")
    if source_column == target_column:
        raise DataError(
            f"data: source_column and target_column are both {source_column}; expected two different columns"
        )
    need = max(source_column, target_column) + 1

    def rows():
        for number, line in _lines(path, encoding, errors):
            if not line.strip():
                continue  # a blank line is no pair (not counted: it has no side to speak of)
            cells = line.split(TAB)
            if len(cells) < need:
                raise DataError(
                    f"data: {path}:{number}: {_fields(len(cells))}; expected at least {need} tab-separated "
                    f"fields (source in column {source_column}, target in column {target_column})"
                )
            yield number, cells[source_column], cells[target_column]

    return _collect(rows(), path)


def read_parallel_files(
    source: PathLike, target: PathLike, encoding: str = "utf-8", errors: str = "strict"
) -> ParallelText:
    """Pairs from two aligned files, line *i* with line *i* (see the module doc).

    Raises:
        DataError: a missing or empty file, undecodable bytes, different line counts (both named),
            no pair with both sides non-empty.
    """
    source, target = Path(source), Path(target)
    source_lines = _lines(source, encoding, errors)
    target_lines = _lines(target, encoding, errors)
    if len(source_lines) != len(target_lines):
        raise DataError(
            f"data: {source} has {len(source_lines)} lines but {target} has {len(target_lines)}; "
            "expected aligned files with the same number of lines (line i of one translates line i of the other)"
        )
    rows = ((number, s, t) for (number, s), (_, t) in zip(source_lines, target_lines))
    return _collect(rows, source)


def _collect(rows, path: Path) -> ParallelText:
    """(line number, source, target) rows -> the pairs; a pair with an empty side is dropped, counted."""
    sources: list[str] = []
    targets: list[str] = []
    origins: list[str] = []
    dropped = 0
    for number, source, target in rows:
        source, target = source.strip(), target.strip()
        if not source or not target:
            dropped += 1
            continue
        sources.append(source)
        targets.append(target)
        origins.append(f"{path}:{number}")
    if not sources:
        raise DataError(f"data: {path} has no sentence pair; expected at least one line with both sides non-empty")
    return ParallelText(sources, targets, origins, dropped)


def _lines(path: Path, encoding: str, errors: str) -> list[tuple[int, str]]:
    """(1-based line number, line) of every line; a final line end ends the last line, it does not
    start an empty one."""
    text = read_text(path, encoding, errors)  # names a missing, empty or undecodable file
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    return [(i, line[:-1] if line.endswith("\r") else line) for i, line in enumerate(lines, 1)]


def _fields(n: int) -> str:
    return "1 field (no tab)" if n == 1 else f"{n} fields"
