"""Word tokens: whitespace tokenisation with ``<eos>`` per line and ``<unk>`` for unknown words.

The convention of the standard Penn Treebank / WikiText readers (Mikolov's ``simple-examples``,
``pytorch/examples`` word_language_model, TensorFlow's ``ptb_word_lm``)::

    " the cat sat \\n on the mat \\n"  ->  the cat sat <eos> on the mat <eos>

Words are maximal runs of non-whitespace (``str.split()``); every ``"\\n"`` is one ``<eos>``
(so an empty line is a lone ``<eos>``, and a ``"\\r"`` before it is just whitespace). The literal
texts ``<eos>`` and ``<unk>`` ARE those tokens: PTB already writes its rare words as ``<unk>``,
and the vocabulary must count them as the unknown word, not as a word of their own.

Id layout of a :class:`WordVocab` of size V::

    0             <eos>
    1             <unk>
    2 .. V-1      the words, most frequent first, ties broken by the word itself (code-point order)

so the same training text always gives the same ids. ``max_size`` caps V (specials included)
and ``min_freq`` drops rare words; both send the dropped words to ``<unk>``. PTB's training
text has 9,999 distinct tokens including ``<unk>``; with ``<eos>`` that is exactly 10,000.

Decoding is the inverse up to whitespace: words joined by single spaces, ``<eos>`` as a
newline. Ids are stored in the smallest unsigned dtype (``uint16`` for PTB).

Needs numpy only (no torch). A Python loop over tokens with a dict is about 0.2 s for PTB's
million tokens: fast enough that nothing fancier is worth its code.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

import numpy as np

from .errors import DataError
from .vocab import EOS, VOCAB_KINDS, id_dtype

UNK = "<unk>"

#: The specials of every word vocabulary, in id order.
WORD_SPECIALS = (EOS, UNK)

#: What encoding does with a word outside the vocabulary.
UNKNOWN_MODES = ("unk", "error", "skip")

#: How many unknown words an error message lists before "...".
_MAX_SHOWN = 10


def tokenize(text: str, final_eos: bool = False) -> list[str]:
    """Split ``text`` into words, with ``"<eos>"`` for every newline.

    Args:
        text: any text.
        final_eos: also end an unterminated last line with ``<eos>`` (what a corpus reader
            wants: every line ends with one). Off for a prime, which may stop mid-line.

    Raises:
        DataError: ``text`` is not a str.
    """
    _check_text(text)
    if final_eos and text and not text.endswith("\n"):
        text += "\n"
    # Pad the newline with spaces so it splits as a token of its own; no per-token Python loop.
    return text.replace("\n", f" {EOS} ").split()


class WordVocab:
    """A word-level vocabulary: ``<eos>``, ``<unk>``, then words by descending frequency.

    Build it from the training text with :meth:`from_text`; it has the same interface as
    :class:`rnnkit.data.CharVocab` (``encode``, ``decode``, ``id_of``, ``has``, ``symbols``,
    ``to_dict``, ``bos_id``, ``eos_id``, ``dtype``), so checkpoints, sampling and evaluation
    take either.

    Args:
        words: the ordinary words in id order (ids 2..V-1); distinct, non-empty, without
            whitespace, and neither special.

    Raises:
        DataError: a word that is not a non-empty str without whitespace, a duplicate, or a
            special among the words.
    """

    kind = "word"

    def __init__(self, words: Iterable[str]):
        words = tuple(words)
        _check_words(words)
        self._words = words
        self._symbols = WORD_SPECIALS + words
        self._index = {w: i for i, w in enumerate(self._symbols)}
        self._dtype = id_dtype(len(self._symbols))

    # ----- construction -------------------------------------------------------------------------
    @classmethod
    def from_text(cls, text: str, max_size: int = 0, min_freq: int = 1) -> WordVocab:
        """The vocabulary of a training text (tokenised by :func:`tokenize`, each line ending in <eos>).

        Args:
            text: the training text.
            max_size: the largest V, specials included (0: no limit; at least 3 otherwise).
            min_freq: words seen fewer times than this go to ``<unk>``.

        Raises:
            DataError: no words at all in ``text`` (empty or whitespace only); bad options.
        """
        return cls.from_tokens(tokenize(text, final_eos=True), max_size, min_freq)

    @classmethod
    def from_tokens(cls, tokens: Iterable[str], max_size: int = 0, min_freq: int = 1) -> WordVocab:
        """Like :meth:`from_text` for an already tokenised stream (``"<eos>"`` / ``"<unk>"`` included)."""
        _check_int(max_size, "vocabulary size", 0)
        _check_int(min_freq, "minimum frequency", 1)
        if 0 < max_size < len(WORD_SPECIALS) + 1:
            raise DataError(
                f"vocab: expected a vocabulary size of 0 (no limit) or at least {len(WORD_SPECIALS) + 1} "
                f"({' and '.join(WORD_SPECIALS)} plus one word), got {max_size}"
            )
        counts = Counter(tokens)
        for special in WORD_SPECIALS:
            counts.pop(special, None)
        if not counts:
            raise no_words_error()
        # Frequency first, then the word, so equal counts never depend on dict order.
        ranked = sorted((w for w, n in counts.items() if n >= min_freq), key=lambda w: (-counts[w], w))
        if not ranked:
            top = max(counts.values())
            raise DataError(
                f"vocab: no word occurs at least {min_freq} times (the most frequent occurs {top}); "
                f"expected a smaller --min-freq"
            )
        if max_size:
            ranked = ranked[: max_size - len(WORD_SPECIALS)]
        return cls(ranked)

    # ----- size and lookup ----------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._symbols)

    @property
    def specials(self) -> tuple[str, ...]:
        """``("<eos>", "<unk>")``: ids 0 and 1."""
        return WORD_SPECIALS

    @property
    def words(self) -> tuple[str, ...]:
        """The ordinary words, in id order (ids 2..V-1)."""
        return self._words

    @property
    def symbols(self) -> tuple[str, ...]:
        """Every token in id order: ``symbols[i]`` is the token with id i."""
        return self._symbols

    @property
    def dtype(self) -> np.dtype:
        """The dtype :meth:`encode` returns (see :func:`rnnkit.data.id_dtype`)."""
        return self._dtype

    @property
    def bos_id(self) -> None:
        """Word vocabularies have no ``<bos>``: a line starts after the previous ``<eos>``."""
        return None

    @property
    def eos_id(self) -> int:
        return 0

    @property
    def unk_id(self) -> int:
        return 1

    def has(self, symbol: str) -> bool:
        """True if ``symbol`` (a word, ``"<eos>"`` or ``"<unk>"``) is in the vocabulary."""
        return symbol in self._index

    def id_of(self, symbol: str) -> int:
        """The id of a word or special. Raises DataError if it is not in the vocabulary."""
        try:
            return self._index[symbol]
        except (KeyError, TypeError):
            raise DataError(
                f"vocab: word {symbol!r} is not in the vocabulary; expected one of its {len(self)} words"
            ) from None

    # ----- text <-> ids -------------------------------------------------------------------------
    def encode(self, text: str, unknown: str = "unk", final_eos: bool = False) -> np.ndarray:
        """Convert text to ids: words by :func:`tokenize`, ``<eos>`` per newline.

        Args:
            text: the text. The literal words ``<eos>`` and ``<unk>`` encode as those tokens.
            unknown: a word outside the vocabulary becomes ``<unk>`` (``"unk"``, the default),
                raises (``"error"``), or is dropped (``"skip"``).
            final_eos: end an unterminated last line with ``<eos>`` too (corpus files).

        Shapes:
            text of N tokens -> ids (N,) (fewer with ``"skip"``), dtype :attr:`dtype`.

        Raises:
            DataError: ``unknown="error"`` and a word is not in the vocabulary (the message
                lists up to 10 of them and how many there are); a bad argument.
        """
        return self.encode_tokens(tokenize(text, final_eos), unknown)

    def encode_tokens(self, tokens: list[str], unknown: str = "unk") -> np.ndarray:
        """:meth:`encode` for an already tokenised text (a list of words, ``"<eos>"`` included)."""
        if unknown not in UNKNOWN_MODES:
            raise DataError(f"text: expected unknown='unk', 'error' or 'skip', got {unknown!r}")
        get = self._index.get
        if unknown == "unk":
            unk = self.unk_id
            return np.fromiter((get(w, unk) for w in tokens), dtype=self._dtype, count=len(tokens))
        ids = np.fromiter((get(w, -1) for w in tokens), dtype=np.int64, count=len(tokens))  # (N,) -1 = unknown
        bad = ids < 0
        if bad.any():
            if unknown == "error":
                raise self._unknown_error(tokens)
            ids = ids[~bad]
        return ids.astype(self._dtype)

    def decode(self, ids, skip_specials: bool = False) -> str:
        """Convert ids back to text: words joined by single spaces, ``<eos>`` as a newline.

        Args:
            ids: a 1-D sequence of ids (list, numpy array, CPU tensor, ...).
            skip_specials: drop ``<unk>`` tokens. ``<eos>`` is still written as a newline:
                it is the line structure, not a word.

        Raises:
            DataError: ``ids`` is not 1-D integers, or an id is outside [0, V).
        """
        arr = self._check_ids(ids)
        pieces: list[str] = []
        previous = self.eos_id  # the text starts as a line does
        for i in arr.tolist():
            if skip_specials and i == self.unk_id:
                continue
            pieces.append(self.piece(i, previous))
            previous = i
        return "".join(pieces)

    def piece(self, token_id: int, previous_id: int | None = None) -> str:
        """The text token ``token_id`` adds after ``previous_id``, for streaming generation:
        ``"\\n"`` for ``<eos>``, the word itself at the start of a line (``previous_id`` None or
        ``<eos>``), else a space and the word. Concatenated pieces equal :meth:`decode`."""
        if token_id == self.eos_id:
            return "\n"
        word = self._symbols[token_id]
        return word if previous_id is None or previous_id == self.eos_id else " " + word

    def unknown_symbols(self, text: str) -> list[str]:
        """The distinct words of ``text`` that are not in the vocabulary, sorted."""
        return sorted({w for w in tokenize(text) if w not in self._index})

    def count_unknown(self, tokens: list[str]) -> int:
        """How many of ``tokens`` are outside the vocabulary (would become ``<unk>``; a literal
        ``<unk>`` is in the vocabulary and does not count)."""
        index = self._index
        return sum(1 for w in tokens if w not in index)

    def _unknown_error(self, tokens: list[str]) -> DataError:
        missing = sorted({w for w in tokens if w not in self._index})
        shown = ", ".join(repr(w) for w in missing[:_MAX_SHOWN])
        if len(missing) > _MAX_SHOWN:
            shown += ", ..."
        return DataError(
            f"text: words not in the vocabulary: {shown} ({len(missing)} distinct); "
            f"expected only the model's words, or --unknown unk (map them to {UNK}) or skip"
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

    # ----- serialisation ------------------------------------------------------------------------
    def to_dict(self) -> dict:
        """A JSON-safe description: ``{"kind": "word", "specials": ["<eos>", "<unk>"], "words": [...]}``."""
        return {"kind": self.kind, "specials": list(WORD_SPECIALS), "words": list(self._words)}

    @classmethod
    def from_dict(cls, d: dict) -> WordVocab:
        """Inverse of :meth:`to_dict`. Raises DataError on a malformed dict or another kind."""
        if not isinstance(d, dict):
            raise DataError(f"vocab: expected a dict from WordVocab.to_dict(), got {type(d).__name__}")
        if d.get("kind") != cls.kind:
            raise DataError(f"vocab: expected kind {cls.kind!r}, got {d.get('kind')!r}")
        if not isinstance(d.get("words"), list):
            raise DataError(f"vocab: expected a list under 'words', got {type(d.get('words')).__name__}")
        if d.get("specials", list(WORD_SPECIALS)) != list(WORD_SPECIALS):
            raise DataError(f"vocab: expected specials {list(WORD_SPECIALS)}, got {d.get('specials')!r}")
        return cls(d["words"])

    def __eq__(self, other) -> bool:
        if not isinstance(other, WordVocab):
            return NotImplemented
        return self._words == other._words

    def __hash__(self) -> int:
        return hash((self.kind, self._words))

    def __repr__(self) -> str:
        return f"WordVocab(size={len(self)})"


VOCAB_KINDS[WordVocab.kind] = WordVocab


def no_words_error() -> DataError:
    return DataError(
        "text: cannot build a word vocabulary from text without words; expected at least one "
        "word (a run of non-whitespace characters)"
    )


# ----- argument checks --------------------------------------------------------------------------
def _check_text(text) -> None:
    if not isinstance(text, str):
        raise DataError(f"text: expected a str, got {type(text).__name__}")


def _check_int(value, what: str, low: int) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        raise DataError(f"vocab: expected {what} to be an integer >= {low}, got {value!r}")


def _check_words(words: tuple) -> None:
    seen: set[str] = set()
    for w in words:
        if not (isinstance(w, str) and w) or len(w.split()) != 1 or w.split()[0] != w:
            raise DataError(f"vocab: expected each word to be a non-empty str without whitespace, got {w!r}")
        if w in WORD_SPECIALS:
            raise DataError(f"vocab: the special {w!r} cannot also be an ordinary word; expected it only as a special")
        if w in seen:
            raise DataError(f"vocab: expected distinct words, got {w!r} twice")
        seen.add(w)
