"""Characters <-> ids without a per-character Python loop: the fast path of a character stream.

A character corpus can be hundreds of MB, so a character stream's :meth:`Vocab.encode` and
:meth:`Vocab.decode` go through numpy: the text becomes code points (UTF-32, or one byte each for
an all-ASCII chunk), a dense table maps code point -> id in one gather, and ids map back to code
points that decode as one buffer. Work is done CHUNK_CHARS at a time to keep peak memory flat.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np

#: Characters converted per numpy pass. 4M chars = 16 MB of code points plus 16 MB of ids:
#: big enough that numpy's per-call overhead vanishes, small enough to keep peak memory flat.
CHUNK_CHARS = 1 << 22

#: Number of Unicode code points (U+0000 .. U+10FFFF).
_UNICODE_SIZE = 0x110000


def code_point_chunks(text: str) -> Iterator[np.ndarray]:
    """Yield the code points of ``text`` as arrays of at most CHUNK_CHARS each.

    UTF-32 is one fixed-width unit per Python character, so ``frombuffer`` turns the encoded
    bytes into code points without a Python-level loop. ``surrogatepass`` keeps lone surrogates
    (which ``errors="surrogateescape"`` decoding can leave in a str) as their own code points.
    An all-ASCII chunk (the common case) goes through one byte per character instead: a
    quarter of the memory traffic, about twice as fast.
    """
    for start in range(0, len(text), CHUNK_CHARS):
        chunk = text[start : start + CHUNK_CHARS]
        if chunk.isascii():
            yield np.frombuffer(chunk.encode("ascii"), dtype=np.uint8)  # (n,) n <= CHUNK_CHARS
        else:
            yield np.frombuffer(chunk.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)  # (n,)


def distinct_chars(text: str) -> list[str]:
    """Every distinct character of ``text``, sorted by code point."""
    present = np.zeros(_UNICODE_SIZE, dtype=bool)  # (U,) one flag per code point
    for cps in code_point_chunks(text):
        present[cps] = True
    return [chr(c) for c in np.flatnonzero(present)]


class CharTable:
    """The characters ``chars`` (distinct, at least one) as ids ``first .. first + C - 1``."""

    def __init__(self, chars: Sequence[str], first: int):
        self._first = first
        cps = np.array([ord(c) for c in chars], dtype=np.int64)  # (C,)
        # id - first -> code point, for decode; one byte each (decoded as latin-1, whose byte values
        # are the code points) when every character is below U+0100, else UTF-32.
        narrow = int(cps.max()) < 0x100
        self._char_cps = cps.astype(np.uint8 if narrow else np.uint32)  # (C,)
        self._codec = "latin-1" if narrow else "utf-32-le"
        # code point -> id (-1 where absent), for encode. Dense, sized by the largest code point:
        # a table lookup is one vectorised gather, and even the worst case (U+10FFFF) is 4.4 MB.
        self._table = np.full(int(cps.max()) + 1, -1, dtype=np.int32)
        self._table[cps] = np.arange(first, first + len(chars), dtype=np.int32)

    def encode(self, text: str, unknown: str, unk_id: int | None, dtype: np.dtype) -> np.ndarray | None:
        """Text of N characters -> ids (N,) of ``dtype``. An unknown character becomes ``unk_id``
        (``unknown="unk"``), is dropped (``"skip"``: fewer ids), or makes the result None (``"error"``)."""
        out = np.empty(len(text), dtype=dtype)  # (N,)
        pos = 0
        for cps in code_point_chunks(text):
            ids = self._lookup(cps)  # (n,) int32, -1 = unknown
            bad = ids < 0
            if bad.any():
                if unknown == "error":
                    return None
                ids = np.where(bad, unk_id, ids) if unknown == "unk" else ids[~bad]  # (n,) or (n_known,)
            out[pos : pos + ids.shape[0]] = ids
            pos += ids.shape[0]
        # Skipping shrank the result: copy so the unused tail of `out` is freed.
        return out if pos == out.shape[0] else out[:pos].copy()

    def unknown(self, text: str) -> list[str]:
        """The distinct characters of ``text`` that are not in the table, sorted by code point."""
        found = np.empty(0, dtype=np.uint32)
        for cps in code_point_chunks(text):
            bad = self._lookup(cps) < 0
            if bad.any():
                found = np.union1d(found, cps[bad])
        return [chr(c) for c in found]

    def decode(self, ids: np.ndarray) -> str:
        """Character ids (n,), all in the table's range, -> str, CHUNK_CHARS at a time."""
        parts = []
        for i in range(0, ids.shape[0], CHUNK_CHARS):
            char_ids = ids[i : i + CHUNK_CHARS].astype(np.intp) - self._first  # (n,) index into the characters
            parts.append(self._char_cps[char_ids].tobytes().decode(self._codec, "surrogatepass"))
        return "".join(parts)

    def _lookup(self, cps: np.ndarray) -> np.ndarray:
        """Code points (n,) -> ids (n,) as int32, -1 where the character is not in the table."""
        table = self._table
        inside = cps < table.shape[0]  # (n,)
        if inside.all():
            return table[cps]
        return np.where(inside, table[np.where(inside, cps, 0)], -1).astype(np.int32, copy=False)
