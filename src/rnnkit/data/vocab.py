"""Character vocabulary: symbols <-> integer ids, vectorised for corpora of hundreds of MB.

Id layout of a :class:`CharVocab` with S specials and C characters (V = S + C)::

    0 .. S-1      the specials, in the order given (e.g. "<bos>", "<eos>")
    S .. V-1      the characters, sorted by code point (so the same text always gives the same ids)

Specials are never produced by :meth:`CharVocab.encode`: the literal text ``"<bos>"`` encodes
as five characters. They are inserted by code that knows the structure (``rnnkit.data.lines``)
and are what a model emits to say "start" or "stop".

Ids are stored in the smallest unsigned dtype that holds V (see :func:`id_dtype`): a 200 MB
English corpus is 200 MB of ``uint8`` ids, not 1.6 GB of ``int64``. Batching widens them to
``torch.long`` one window at a time.

Every vocabulary serialises to a JSON-safe dict with a ``"kind"`` field; :func:`vocab_from_dict`
dispatches on it, so a ``WordVocab`` (kind ``"word"``) can live beside ``CharVocab`` with the
same methods (``encode``, ``decode``, ``id_of``, ``has``, ``to_dict``, ``bos_id``, ``eos_id``)
and be loaded from a checkpoint by the same call.

This module needs numpy only (no torch): tokenising tools can use it without the model stack.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

import numpy as np

from .errors import DataError

BOS = "<bos>"
EOS = "<eos>"

#: Characters converted per numpy pass. 4M chars = 16 MB of code points plus 16 MB of ids:
#: big enough that numpy's per-call overhead vanishes, small enough to keep peak memory flat.
CHUNK_CHARS = 1 << 22

#: Number of Unicode code points (U+0000 .. U+10FFFF).
_UNICODE_SIZE = 0x110000

#: How many unknown characters an error message lists before "...".
_MAX_SHOWN = 10


def id_dtype(size: int) -> np.dtype:
    """The smallest unsigned dtype holding ids 0 .. size-1: uint8 (<= 256), uint16 (<= 65536), else uint32."""
    if size <= 1 << 8:
        return np.dtype(np.uint8)
    if size <= 1 << 16:
        return np.dtype(np.uint16)
    return np.dtype(np.uint32)


def _code_point_chunks(text: str) -> Iterator[np.ndarray]:
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


class CharVocab:
    """A character-level vocabulary with optional special symbols.

    Build it from the training text with :meth:`from_text`; save it with :meth:`to_dict` (it
    goes into every checkpoint) and restore it with :meth:`from_dict` / :func:`vocab_from_dict`.

    Args:
        chars: the characters, each a str of length 1, distinct; ids follow this order.
        specials: names of special symbols (e.g. ``"<bos>"``, ``"<eos>"``); they take ids
            0..S-1 and must differ from every character.

    Raises:
        DataError: a char is not a single character, duplicates, no characters at all, an
            empty or duplicated special, or a special equal to one of the characters.
    """

    kind = "char"

    def __init__(self, chars: Iterable[str], specials: Sequence[str] = ()):
        chars = tuple(chars)
        specials = tuple(specials)
        _check_symbols(chars, specials)
        self._specials = specials
        self._chars = chars
        self._symbols = specials + chars
        self._index = {s: i for i, s in enumerate(self._symbols)}
        self._dtype = id_dtype(len(self._symbols))
        S = len(specials)
        cps = np.array([ord(c) for c in chars], dtype=np.int64)  # (C,)
        # id - S -> code point, for decode; one byte each (decoded as latin-1, whose byte values
        # are the code points) when every character is below U+0100, else UTF-32.
        narrow = int(cps.max()) < 0x100
        self._char_cps = cps.astype(np.uint8 if narrow else np.uint32)  # (C,)
        self._char_codec = "latin-1" if narrow else "utf-32-le"
        # code point -> id (-1 where absent), for encode. Dense, sized by the largest code point:
        # a table lookup is one vectorised gather, and even the worst case (U+10FFFF) is 4.4 MB.
        self._table = np.full(int(cps.max()) + 1, -1, dtype=np.int32)
        self._table[cps] = np.arange(S, S + len(chars), dtype=np.int32)

    # ----- construction -------------------------------------------------------------------------
    @classmethod
    def from_text(cls, text: str, specials: Sequence[str] = ()) -> CharVocab:
        """Every distinct character of ``text``, sorted by code point, after ``specials``.

        Raises:
            DataError: ``text`` is not a str or is empty; a special is also a character of
                ``text``; bad specials (see the class).
        """
        _check_text(text)
        if not text:
            raise DataError("text: cannot build a vocabulary from empty text; expected at least one character")
        present = np.zeros(_UNICODE_SIZE, dtype=bool)  # (U,) one flag per code point
        for cps in _code_point_chunks(text):
            present[cps] = True
        chars = [chr(c) for c in np.flatnonzero(present)]
        clash = [s for s in specials if isinstance(s, str) and len(s) == 1 and present[ord(s)]]
        if clash:
            raise DataError(
                f"vocab: special {clash[0]!r} also occurs in the text as a character; expected "
                f"specials distinct from the text's characters, e.g. '<bos>'"
            )
        return cls(chars, specials)

    # ----- size and lookup ----------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._symbols)

    @property
    def specials(self) -> tuple[str, ...]:
        """Special symbol names, in id order (ids 0..S-1)."""
        return self._specials

    @property
    def chars(self) -> tuple[str, ...]:
        """The characters, in id order (ids S..V-1)."""
        return self._chars

    @property
    def symbols(self) -> tuple[str, ...]:
        """Every symbol in id order: ``symbols[i]`` is the symbol with id i."""
        return self._symbols

    @property
    def dtype(self) -> np.dtype:
        """The dtype :meth:`encode` returns (see :func:`id_dtype`)."""
        return self._dtype

    @property
    def bos_id(self) -> int | None:
        """Id of ``"<bos>"``, or None if the vocabulary has no such special."""
        return self._index.get(BOS) if BOS in self._specials else None

    @property
    def eos_id(self) -> int | None:
        """Id of ``"<eos>"``, or None if the vocabulary has no such special."""
        return self._index.get(EOS) if EOS in self._specials else None

    def has(self, symbol: str) -> bool:
        """True if ``symbol`` (a character or a special's name) is in the vocabulary."""
        return symbol in self._index

    def id_of(self, symbol: str) -> int:
        """The id of a character or special. Raises DataError if it is not in the vocabulary."""
        try:
            return self._index[symbol]
        except (KeyError, TypeError):
            raise DataError(
                f"vocab: symbol {symbol!r} is not in the vocabulary; expected one of its {len(self)} symbols"
            ) from None

    # ----- text <-> ids -------------------------------------------------------------------------
    def encode(self, text: str, unknown: str = "error") -> np.ndarray:
        """Convert text to ids, in chunks of CHUNK_CHARS with no per-character Python loop.

        Args:
            text: the text; never yields special ids.
            unknown: ``"error"`` raises on characters outside the vocabulary; ``"skip"`` drops
                them.

        Shapes:
            text of N characters -> ids (N,) (fewer with ``"skip"``), dtype :attr:`dtype`.

        Raises:
            DataError: ``unknown="error"`` and the text has characters outside the vocabulary
                (the message lists up to 10 of them and how many there are); a bad argument.
        """
        _check_text(text)
        _check_unknown(unknown)
        out = np.empty(len(text), dtype=self._dtype)  # (N,)
        pos = 0
        for cps in _code_point_chunks(text):
            ids = self._lookup(cps)  # (n,) int32, -1 = unknown
            bad = ids < 0
            if bad.any():
                if unknown == "error":
                    raise self._unknown_error(text)
                ids = ids[~bad]  # (n_known,)
            out[pos : pos + ids.shape[0]] = ids
            pos += ids.shape[0]
        # Skipping shrank the result: copy so the unused tail of `out` is freed.
        return out if pos == out.shape[0] else out[:pos].copy()

    def decode(self, ids, skip_specials: bool = False) -> str:
        """Convert ids back to text.

        Args:
            ids: a 1-D sequence of ids (list, numpy array, CPU tensor, ...).
            skip_specials: drop special ids instead of writing their names (``"<eos>"``).

        Raises:
            DataError: ``ids`` is not 1-D integers, or an id is outside [0, V).
        """
        try:
            arr = np.asarray(ids)
        except (TypeError, ValueError):
            raise DataError(f"ids: expected a 1-D sequence of integer ids, got {type(ids).__name__}") from None
        if arr.size == 0 and arr.ndim == 1:
            return ""
        if arr.ndim != 1 or arr.dtype.kind not in "ui":
            raise DataError(f"ids: expected a 1-D sequence of integer ids, got shape {arr.shape} dtype {arr.dtype}")
        lo, hi = int(arr.min()), int(arr.max())
        if lo < 0 or hi >= len(self):
            bad = lo if lo < 0 else hi
            raise DataError(f"ids: id {bad} is out of range; expected 0 <= id < {len(self)} (the vocabulary size)")
        S = len(self._specials)
        if S == 0 or lo >= S:
            return self._decode_chars(arr)
        is_special = arr < S  # (N,)
        if skip_specials:
            return self._decode_chars(arr[~is_special])
        # Specials are rare next to characters: decode each run of characters in one go.
        pieces: list[str] = []
        start = 0
        for p in np.flatnonzero(is_special):
            pieces.append(self._decode_chars(arr[start:p]))
            pieces.append(self._specials[arr[p]])
            start = p + 1
        pieces.append(self._decode_chars(arr[start:]))
        return "".join(pieces)

    def unknown_symbols(self, text: str) -> list[str]:
        """The distinct characters of ``text`` that are not in the vocabulary, sorted by code point."""
        _check_text(text)
        found = np.empty(0, dtype=np.uint32)
        for cps in _code_point_chunks(text):
            bad = self._lookup(cps) < 0
            if bad.any():
                found = np.union1d(found, cps[bad])
        return [chr(c) for c in found]

    def _lookup(self, cps: np.ndarray) -> np.ndarray:
        """Code points (n,) -> ids (n,) as int32, -1 where the character is not in the vocabulary."""
        table = self._table
        inside = cps < table.shape[0]  # (n,)
        if inside.all():
            return table[cps]
        return np.where(inside, table[np.where(inside, cps, 0)], -1).astype(np.int32, copy=False)

    def _decode_chars(self, ids: np.ndarray) -> str:
        """Character ids (n,), all >= S, -> str, CHUNK_CHARS at a time."""
        S = len(self._specials)
        parts = []
        for i in range(0, ids.shape[0], CHUNK_CHARS):
            char_ids = ids[i : i + CHUNK_CHARS].astype(np.intp) - S  # (n,) index into the characters
            parts.append(self._char_cps[char_ids].tobytes().decode(self._char_codec, "surrogatepass"))
        return "".join(parts)

    def _unknown_error(self, text: str) -> DataError:
        missing = self.unknown_symbols(text)
        shown = ", ".join(repr(c) for c in missing[:_MAX_SHOWN])
        if len(missing) > _MAX_SHOWN:
            shown += ", ..."
        return DataError(
            f"text: characters not in the vocabulary: {shown} ({len(missing)} distinct); "
            f"expected only the model's characters, or --unknown skip"
        )

    # ----- serialisation ------------------------------------------------------------------------
    def to_dict(self) -> dict:
        """A JSON-safe description: ``{"kind": "char", "specials": [...], "chars": [...]}``."""
        return {"kind": self.kind, "specials": list(self._specials), "chars": list(self._chars)}

    @classmethod
    def from_dict(cls, d: dict) -> CharVocab:
        """Inverse of :meth:`to_dict`. Raises DataError on a malformed dict or another kind."""
        if not isinstance(d, dict):
            raise DataError(f"vocab: expected a dict from CharVocab.to_dict(), got {type(d).__name__}")
        if d.get("kind") != cls.kind:
            raise DataError(f"vocab: expected kind {cls.kind!r}, got {d.get('kind')!r}")
        for key in ("specials", "chars"):
            if not isinstance(d.get(key), list):
                raise DataError(f"vocab: expected a list under {key!r}, got {type(d.get(key)).__name__}")
        return cls(d["chars"], d["specials"])

    def __eq__(self, other) -> bool:
        if not isinstance(other, CharVocab):
            return NotImplemented
        return self._specials == other._specials and self._chars == other._chars

    def __hash__(self) -> int:
        return hash((self.kind, self._specials, self._chars))

    def __repr__(self) -> str:
        return f"CharVocab(size={len(self)}, specials={self._specials!r})"


#: Vocabulary classes by their "kind" field. A WordVocab registers as "word".
VOCAB_KINDS: dict[str, type] = {"char": CharVocab}


def vocab_from_dict(d: dict):
    """Rebuild any vocabulary from its ``to_dict()`` form, dispatching on ``d["kind"]``.

    Raises:
        DataError: ``d`` is not a dict, or its kind is not one of :data:`VOCAB_KINDS`.
    """
    if not isinstance(d, dict):
        raise DataError(f"vocab: expected a dict with a 'kind' field, got {type(d).__name__}")
    kind = d.get("kind")
    if kind not in VOCAB_KINDS:
        known = ", ".join(repr(k) for k in VOCAB_KINDS)
        raise DataError(f"vocab: unknown vocabulary kind {kind!r}; expected one of {known}")
    return VOCAB_KINDS[kind].from_dict(d)


# ----- argument checks --------------------------------------------------------------------------
def _check_text(text) -> None:
    if not isinstance(text, str):
        raise DataError(f"text: expected a str, got {type(text).__name__}")


def _check_unknown(unknown) -> None:
    if unknown not in ("error", "skip"):
        raise DataError(f"text: expected unknown='error' or 'skip', got {unknown!r}")


def _check_symbols(chars: tuple, specials: tuple) -> None:
    for c in chars:
        if not (isinstance(c, str) and len(c) == 1):
            raise DataError(f"vocab: expected single characters, got {c!r}")
    if not chars:
        raise DataError("vocab: expected at least one character, got none")
    dup = _first_duplicate(chars)
    if dup is not None:
        raise DataError(f"vocab: expected distinct characters, got {dup!r} twice")
    for s in specials:
        if not (isinstance(s, str) and s):
            raise DataError(f"vocab: expected each special to be a non-empty str, got {s!r}")
    dup = _first_duplicate(specials)
    if dup is not None:
        raise DataError(f"vocab: expected distinct specials, got {dup!r} twice")
    clash = set(specials) & set(chars)
    if clash:
        raise DataError(
            f"vocab: special {min(clash)!r} is also a character; expected specials distinct "
            f"from the characters, e.g. '<bos>'"
        )


def _first_duplicate(items: tuple):
    seen = set()
    for x in items:
        if x in seen:
            return x
        seen.add(x)
    return None
