"""Reading text from disk: a corpus (one file, a directory of ``*.txt``, a list; ``.gz`` allowed), and its lines.

The corpus is returned exactly as decoded: no newline translation (a ``\\r\\n`` file keeps its
``\\r``), no normalisation, no stripping. What the model sees is what the file holds. The other
readers (:mod:`.tables`, :mod:`.conllu`) read their files through :func:`read_text`, so every
reader decodes, decompresses and reports bad bytes the same way.

Memory: a file is read as bytes and decoded in one go, so reading costs about twice the file
size at peak (bytes + str; an ASCII str takes one byte per character). Converting the text to
ids is :meth:`rnnkit.data.vocab.Vocab.encode`, which works in chunks.
"""

from __future__ import annotations

import codecs
import gzip
import os
import zlib
from collections.abc import Sequence
from pathlib import Path

from ..errors import DataError

PathLike = str | os.PathLike


# ----- reading ----------------------------------------------------------------------------------
def read_text(source: PathLike | Sequence[PathLike], encoding: str = "utf-8", errors: str = "strict") -> str:
    """Read a corpus: one file, every ``*.txt`` under a directory, or a list of such paths.

    Files are concatenated in order (a directory's files sorted by their path relative to the
    directory, compared component by component, so ``a/z.txt`` comes before ``a-b.txt`` and
    ``b.txt``). Between two files a ``"\\n"`` is inserted unless the first already ends with
    one, so a file's last line never runs into the next file's first. Empty ``.txt`` files
    inside a directory are skipped; a file named directly must not be empty. A file named
    ``*.gz`` is decompressed first (gzip), and byte offsets in errors refer to its
    decompressed bytes.

    Args:
        source: a path to a file or directory, or a list/tuple of them.
        encoding: any Python codec name (``utf-8``, ``latin-1``, ``cp1252``, ...).
        errors: how undecodable bytes are handled: ``strict`` (raise), ``replace`` (U+FFFD),
            ``ignore`` (drop), or any other registered codec error handler.

    Returns:
        The whole corpus as one str.

    Raises:
        DataError: a path does not exist; a directory holds no ``.txt`` file or only empty
            ones; a file is empty; the encoding or error handler is unknown; with
            ``errors="strict"``, bytes that are invalid in ``encoding`` (the message names
            the file, the byte offset and the byte value).
    """
    encoding = check_codec(encoding, errors)
    sources = _as_path_list(source)
    parts: list[str] = []
    for path in sources:
        if path.is_dir():
            files = _txt_files(path)
            texts = [t for t in (_read_file(f, encoding, errors) for f in files) if t]
            if not texts:
                raise DataError(f"data: every .txt file in {path} is empty; expected at least one character of text")
            parts.extend(texts)
        elif path.exists():
            text = _read_file(path, encoding, errors)
            if not text and path.stat().st_size == 0:
                raise DataError(f"data: {path} is empty; expected at least one character of text")
            if not text:
                raise DataError(
                    f"data: {path} holds no text after decoding as {encoding} with "
                    f"errors={errors!r}; expected at least one character of text"
                )
            parts.append(text)
        else:
            raise DataError(f"data: no such file or directory: {path}")
    if len(parts) == 1:
        return parts[0]  # the common case: no join, no second copy of a big corpus
    pieces: list[str] = []
    for i, text in enumerate(parts):
        pieces.append(text)
        if i + 1 < len(parts) and not text.endswith("\n"):
            pieces.append("\n")
    return "".join(pieces)


def check_codec(encoding: str, errors: str) -> str:
    """Validate the codec and the error handler up front; returns the codec's canonical name."""
    try:
        info = codecs.lookup(encoding)
        if not getattr(info, "_is_text_encoding", True):  # rot13, base64, zlib ...: what bytes.decode refuses
            raise LookupError(encoding)
        name = info.name
    except (LookupError, TypeError):
        raise DataError(
            f"data: unknown encoding {encoding!r}; expected a Python codec name such as 'utf-8' or 'latin-1' "
            "(a text encoding)"
        ) from None
    try:
        codecs.lookup_error(errors)
    except (LookupError, TypeError):
        raise DataError(
            f"data: unknown decoding error handler {errors!r}; expected 'strict', 'replace' or 'ignore'"
        ) from None
    return name


def _as_path_list(source) -> list[Path]:
    if isinstance(source, (str, os.PathLike)):
        return [Path(source)]
    if isinstance(source, Sequence) and not isinstance(source, (bytes, bytearray)):
        paths = list(source)
        if not paths:
            raise DataError("data: no input paths given; expected a file, a directory or a list of them")
        for p in paths:
            if not isinstance(p, (str, os.PathLike)):
                raise DataError(f"data: expected a path (str or Path) in the source list, got {type(p).__name__}")
        return [Path(p) for p in paths]
    raise DataError(f"data: expected a path (str or Path) or a list of paths, got {type(source).__name__}")


def _txt_files(directory: Path) -> list[Path]:
    """Every ``*.txt`` file under ``directory`` (recursively), in a stable order."""
    files = [p for p in directory.rglob("*.txt") if p.is_file()]
    if not files:
        raise DataError(
            f"data: no .txt files in directory {directory}; expected at least one *.txt file (searched recursively)"
        )
    # Component-wise order (a tuple of names per path) is the tree order a reader expects and,
    # unlike comparing whole strings, does not depend on how '/' sorts against '-' or '.'.
    return sorted(files, key=lambda p: p.relative_to(directory).parts)


def _read_file(path: Path, encoding: str, errors: str) -> str:
    data = path.read_bytes()
    compressed = path.suffix == ".gz" and bool(data)
    if compressed:
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError, zlib.error) as e:
            raise DataError(f"data: {path} is not a valid gzip file ({e}); expected gzip data in a .gz file") from None
    if not data:
        return ""  # the caller decides whether an empty file is an error
    try:
        return data.decode(encoding, errors)
    except UnicodeDecodeError as e:
        # e.start is the offset of the first bad byte within the file: exactly what a hex
        # editor or `cmp` shows, which is why we report it rather than a character position.
        where = "decompressed byte offset" if compressed else "byte offset"
        raise DataError(
            f"data: {path} is not valid {encoding} at {where} {e.start} "
            f"(byte 0x{data[e.start]:02x}); pass --encoding ENCODING or --errors replace"
        ) from None


# ----- lines ------------------------------------------------------------------------------------
def split_lines(text: str) -> list[str]:
    """The non-empty lines of ``text`` (split on ``"\\n"``, one trailing ``"\\r"`` removed).

    Whitespace-only lines are kept as items: only truly empty lines are separators.
    """
    if not isinstance(text, str):
        raise DataError(f"lines: expected a str, got {type(text).__name__}")
    lines = (line[:-1] if line.endswith("\r") else line for line in text.split("\n"))
    return [line for line in lines if line]
