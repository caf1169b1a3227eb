"""The vocabulary: symbols <-> integer ids, with declared specials and a tokenisation.

One class serves every task. A :class:`Vocab` is

- its **specials**, declared at construction, ids 0..S-1 in that order: any of ``<pad>``,
  ``<unk>``, ``<bos>``, ``<eos>`` (their ids: :attr:`Vocab.pad_id`, ``unk_id``, ``bos_id``,
  ``eos_id``, None when not declared) and any other reserved name;
- its **ordinary symbols**, ids S..V-1 (see :mod:`.layout`);
- its **tokenisation** (see :mod:`.tokenize`): ``tokens`` ``"char"`` or ``"word"``, of a running
  ``stream`` (language models) or of one sequence (an example of a padded-batch task).

What the form decides::

                     stream (char / word language models)        sequence (classify, tag, translate)
    encode(text)     compact numpy ids (uint8/16/32), (N,)       list[int]
    decode(ids)      the text                                    the list of symbols
    id_of(unseen)    DataError                                   <unk>'s id (when declared)
    has(token)       one of the symbols (specials included)      seen in training (not sent to <unk>)
    stored as        {"kind": "char" | "word", ...}              {"kind": "tokens", ...}

Unknown tokens: ``unknown="unk"`` (the default when ``<unk>`` is declared) maps them to ``<unk>``,
``"error"`` (the default otherwise) raises naming them, ``"skip"`` drops them. Literal special
names in a text encode as those specials for word and sequence tokens (PTB's ``<unk>``); a
character stream never produces a special (the text ``"<bos>"`` is five characters): line framing
inserts them (:mod:`.lines`). The dict of :meth:`Vocab.to_dict` goes into every checkpoint; the
forms and their readers are in :mod:`.forms`; the names of today's layouts in :mod:`.presets`.

Needs numpy only (no torch).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from ..errors import DataError
from . import forms
from .codepoints import CharTable, distinct_chars
from .counting import ranked_tokens
from .layout import BOS, EOS, PAD, UNK, check_layout, id_dtype
from .tokenize import check_text, cut

#: How many unknown symbols an error message lists before "...".
_MAX_SHOWN = 10


class Vocab:
    """Args:
    symbols: the ordinary symbols in id order (ids S..V-1): single characters for a character
        stream, words without whitespace for a word stream, any non-empty strings for a sequence.
    specials: the special names, ids 0..S-1; a word stream needs ``<eos>`` (its line end).
    tokens: ``"char"`` or ``"word"``. stream: a running text (True) or one sequence (False).
    lowercase: fold case before lookup (sequences only).

    Raises:
        DataError: a bad symbol (the message says which and why), a duplicate, a special among
            the symbols, no character at all for a character stream.
    """

    def __init__(
        self,
        symbols: Iterable[str],
        specials: Sequence[str] = (),
        *,
        tokens: str = "word",
        stream: bool = False,
        lowercase: bool = False,
    ):
        symbols, specials = tuple(symbols), tuple(specials)
        check_layout(symbols, specials, tokens, stream)
        if lowercase and stream:
            raise DataError("vocab: expected lowercase only for a sequence vocabulary, got a stream")
        self.tokens, self.stream, self.lowercase = tokens, bool(stream), bool(lowercase)
        self._specials, self._ordinary = specials, symbols
        self._symbols = specials + symbols
        self._index = {s: i for i, s in enumerate(self._symbols)}
        self._dtype = id_dtype(len(self._symbols))
        self._chars = CharTable(symbols, len(specials)) if stream and tokens == "char" else None

    # ----- construction -------------------------------------------------------------------------
    @classmethod
    def from_chars(cls, text: str, specials: Sequence[str] = ()) -> Vocab:
        """A character stream of every distinct character of ``text``, by code point, after ``specials``.

        Raises:
            DataError: ``text`` is not a str or is empty; a special is also a character of ``text``.
        """
        check_text(text)
        if not text:
            raise DataError("text: cannot build a vocabulary from empty text; expected at least one character")
        chars = distinct_chars(text)
        present = set(chars)
        clash = [s for s in specials if isinstance(s, str) and len(s) == 1 and s in present]
        if clash:
            raise DataError(
                f"vocab: special {clash[0]!r} also occurs in the text as a character; expected "
                f"specials distinct from the text's characters, e.g. '<bos>'"
            )
        return cls(chars, specials, tokens="char", stream=True)

    @classmethod
    def from_token_lists(
        cls,
        token_lists: Iterable[Sequence[str]],
        specials: Sequence[str],
        *,
        tokens: str = "word",
        stream: bool = False,
        lowercase: bool = False,
        min_freq: int = 1,
        max_size: int = 0,
    ) -> Vocab:
        """Count already-cut tokens (folded if ``lowercase``) and keep the frequent ones, most
        frequent first (:func:`rnnkit.data.vocab.counting.ranked_tokens`); ``max_size`` counts the specials."""
        specials = tuple(specials)
        kept = ranked_tokens(token_lists, specials, stream, lowercase, min_freq, max_size)
        return cls(kept, specials, tokens=tokens, stream=stream, lowercase=lowercase)

    @classmethod
    def from_texts(cls, texts: Iterable[str], specials: Sequence[str], **kwargs) -> Vocab:
        """:meth:`from_token_lists` of texts cut by the vocabulary's tokenisation (a stream's
        texts each end their last line, as corpus files do)."""
        tokens, stream = kwargs.get("tokens", "word"), kwargs.get("stream", False)
        return cls.from_token_lists((cut(t, tokens, stream, final_eos=True) for t in texts), specials, **kwargs)

    # ----- size and lookup ----------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._symbols)

    @property
    def specials(self) -> tuple[str, ...]:
        """The special names, in id order (ids 0..S-1)."""
        return self._specials

    @property
    def ordinary(self) -> tuple[str, ...]:
        """The ordinary symbols (characters, words or tokens), in id order (ids S..V-1)."""
        return self._ordinary

    @property
    def symbols(self) -> tuple[str, ...]:
        """Every symbol in id order: ``symbols[i]`` is the symbol with id i."""
        return self._symbols

    @property
    def dtype(self) -> np.dtype:
        """The dtype a stream's :meth:`encode` returns (see :func:`rnnkit.data.vocab.id_dtype`)."""
        return self._dtype

    @property
    def kind(self) -> str:
        """The stored form: ``"char"`` / ``"word"`` (streams) or ``"tokens"`` (sequences)."""
        return self.tokens if self.stream else "tokens"

    pad_id = property(lambda self: self._special_id(PAD), doc="Id of ``<pad>``, or None if not declared.")
    unk_id = property(lambda self: self._special_id(UNK), doc="Id of ``<unk>``, or None if not declared.")
    bos_id = property(lambda self: self._special_id(BOS), doc="Id of ``<bos>``, or None if not declared.")
    eos_id = property(lambda self: self._special_id(EOS), doc="Id of ``<eos>``, or None if not declared.")

    def _special_id(self, name: str) -> int | None:
        return self._index[name] if name in self._specials else None

    def _fold(self, token):
        return token.lower() if self.lowercase and isinstance(token, str) else token

    def has(self, symbol: str) -> bool:
        """Stream: ``symbol`` is one of the symbols (specials included). Sequence: ``symbol``
        (case-folded) was seen in training, i.e. does not encode as ``<unk>``."""
        try:
            i = self._index.get(self._fold(symbol))
        except TypeError:
            return False
        return i is not None and (self.stream or i != self.unk_id)

    def id_of(self, symbol: str) -> int:
        """The id of a symbol; an unseen one is ``<unk>`` in a sequence vocabulary, a DataError in a stream."""
        try:
            return self._index[self._fold(symbol)]
        except (KeyError, TypeError):
            if not self.stream and self.unk_id is not None:
                return self.unk_id
            noun = "word" if self.tokens == "word" else "symbol"
            raise DataError(
                f"vocab: {noun} {symbol!r} is not in the vocabulary; expected one of its {len(self)} {noun}s"
            ) from None

    # ----- text <-> ids -------------------------------------------------------------------------
    def tokenize(self, text: str, final_eos: bool = False) -> list[str]:
        """``text`` cut by this vocabulary's tokenisation (``final_eos``: word streams, see :mod:`.tokenize`)."""
        return cut(text, self.tokens, self.stream, final_eos)

    def encode(self, text: str, unknown: str | None = None, final_eos: bool = False) -> np.ndarray | list[int]:
        """Convert text to ids (a stream: compact numpy ids; a sequence: a list).

        Args:
            text: the text, cut by :meth:`tokenize`.
            unknown: ``"unk"``, ``"error"`` or ``"skip"`` (see the module doc); None: the default.
            final_eos: word streams: end an unterminated last line with ``<eos>`` too (corpus files).

        Raises:
            DataError: ``unknown="error"`` and a token is not in the vocabulary (the message lists
                up to 10 of them and how many there are); a bad argument.
        """
        if self._chars is None:
            return self.encode_tokens(self.tokenize(text, final_eos), unknown)
        check_text(text)
        ids = self._chars.encode(text, self._unknown_mode(unknown), self.unk_id, self._dtype)
        if ids is None:
            raise self._unknown_error(self._chars.unknown(text))
        return ids

    def encode_tokens(self, tokens: Sequence[str], unknown: str | None = None) -> np.ndarray | list[int]:
        """:meth:`encode` for an already cut text (a list of tokens, ``"<eos>"`` included)."""
        unknown = self._unknown_mode(unknown)
        get = self._index.get
        if self.lowercase:
            tokens = [t.lower() for t in tokens]
        if unknown == "unk":
            unk = self.unk_id
            if not self.stream:
                return [get(t, unk) for t in tokens]
            return np.fromiter((get(w, unk) for w in tokens), dtype=self._dtype, count=len(tokens))
        ids = np.fromiter((get(w, -1) for w in tokens), dtype=np.int64, count=len(tokens))  # (N,) -1 = unknown
        bad = ids < 0
        if bad.any():
            if unknown == "error":
                raise self._unknown_error(sorted({w for w in tokens if w not in self._index}))
            ids = ids[~bad]
        return ids.astype(self._dtype) if self.stream else ids.tolist()

    def decode(self, ids, skip_specials: bool = False) -> str | list[str]:
        """Convert ids back: a stream to its text, a sequence to its list of symbols.

        Character streams write specials by name (``"<eos>"``); word streams join words by single
        spaces and write ``<eos>`` as a newline (the line structure, kept even with ``skip_specials``).

        Args:
            ids: a 1-D sequence of ids (list, numpy array, CPU tensor, ...).
            skip_specials: drop the specials (a word stream's ``<eos>`` excepted).

        Raises:
            DataError: (streams) ``ids`` is not 1-D integers, or an id is outside [0, V).
        """
        if not self.stream:
            if skip_specials:
                ids = [i for i in ids if int(i) >= len(self._specials)]
            return [self._symbols[int(i)] for i in ids]
        arr = self._check_ids(ids)
        if self._chars is not None:
            return self._decode_chars(arr, skip_specials)
        skipped = {self._index[s] for s in self._specials if s != EOS} if skip_specials else set()
        pieces: list[str] = []
        previous = self.eos_id  # the text starts as a line does
        for i in arr.tolist():
            if i in skipped:
                continue
            pieces.append(self.piece(i, previous))
            previous = i
        return "".join(pieces)

    def piece(self, token_id: int, previous_id: int | None = None) -> str:
        """The text token ``token_id`` adds after ``previous_id``, for streaming generation. Word
        streams: ``"\\n"`` for ``<eos>``, the word itself at the start of a line (``previous_id``
        None or ``<eos>``), else a space and the word; else the symbol. Pieces concatenate to :meth:`decode`."""
        if self.tokens != "word" or not self.stream:
            return self._symbols[token_id]
        if token_id == self.eos_id:
            return "\n"
        word = self._symbols[token_id]
        return word if previous_id is None or previous_id == self.eos_id else " " + word

    def unknown_symbols(self, text: str) -> list[str]:
        """The distinct tokens of ``text`` (case-folded) that are not in the vocabulary, sorted."""
        if self._chars is not None:
            check_text(text)
            return self._chars.unknown(text)
        return sorted({t for t in map(self._fold, self.tokenize(text)) if t not in self._index})

    def count_unknown(self, tokens: Iterable[str]) -> int:
        """How many of ``tokens`` are outside the vocabulary (would become ``<unk>``; a literal
        ``<unk>`` is in the vocabulary and does not count)."""
        index = self._index
        return sum(1 for t in map(self._fold, tokens) if t not in index)

    def _unknown_mode(self, unknown: str | None) -> str:
        has_unk = self.unk_id is not None
        if unknown is None:
            return "unk" if has_unk else "error"
        if unknown not in (("unk", "error", "skip") if has_unk else ("error", "skip")):
            choices = "'unk', 'error' or 'skip'" if has_unk else "'error' or 'skip'"
            raise DataError(f"text: expected unknown={choices}, got {unknown!r}")
        return unknown

    def _unknown_error(self, missing: list[str]) -> DataError:
        shown = ", ".join(repr(s) for s in missing[:_MAX_SHOWN])
        if len(missing) > _MAX_SHOWN:
            shown += ", ..."
        unit = "characters" if self.tokens == "char" else "words"
        instead = f"--unknown unk (map them to {UNK}) or skip" if self.unk_id is not None else "--unknown skip"
        return DataError(
            f"text: {unit} not in the vocabulary: {shown} ({len(missing)} distinct); "
            f"expected only the model's {unit}, or {instead}"
        )

    def _check_ids(self, ids) -> np.ndarray:
        try:
            arr = np.asarray(ids)
        except (TypeError, ValueError):
            raise DataError(f"ids: expected a 1-D sequence of integer ids, got {type(ids).__name__}") from None
        if arr.size == 0 and arr.ndim == 1:
            return arr.astype(np.int64)
        if arr.ndim != 1 or arr.dtype.kind not in "ui":
            raise DataError(f"ids: expected a 1-D sequence of integer ids, got shape {arr.shape} dtype {arr.dtype}")
        lo, hi = int(arr.min()), int(arr.max())
        if lo < 0 or hi >= len(self):
            bad = lo if lo < 0 else hi
            raise DataError(f"ids: id {bad} is out of range; expected 0 <= id < {len(self)} (the vocabulary size)")
        return arr

    def _decode_chars(self, arr: np.ndarray, skip_specials: bool) -> str:
        S = len(self._specials)
        if S == 0 or arr.size == 0 or int(arr.min()) >= S:
            return self._chars.decode(arr)
        is_special = arr < S  # (N,)
        if skip_specials:
            return self._chars.decode(arr[~is_special])
        # Specials are rare next to characters: decode each run of characters in one go.
        pieces: list[str] = []
        start = 0
        for p in np.flatnonzero(is_special):
            pieces.append(self._chars.decode(arr[start:p]))
            pieces.append(self._specials[arr[p]])
            start = p + 1
        pieces.append(self._chars.decode(arr[start:]))
        return "".join(pieces)

    # ----- serialisation ------------------------------------------------------------------------
    def to_dict(self) -> dict:
        """A JSON-safe description in the vocabulary's stored form (see :mod:`.forms`)."""
        return forms.to_dict(self)

    @classmethod
    def from_dict(cls, d: dict) -> Vocab:
        """Inverse of :meth:`to_dict`, for every stored form (old checkpoints included)."""
        return forms.from_dict(d, cls)

    def __eq__(self, other) -> bool:
        if not isinstance(other, Vocab):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def _key(self) -> tuple:
        return (self.tokens, self.stream, self.lowercase, self._specials, self._ordinary)

    def __repr__(self) -> str:
        form = "stream" if self.stream else "sequence"
        fold = ", lowercase=True" if self.lowercase else ""
        return f"Vocab(size={len(self)}, tokens={self.tokens!r}, {form}, specials={self._specials!r}{fold})"
