"""The vocabulary of padded-batch tasks (classification, tagging): ``<pad>``, ``<unk>``, then tokens.

Id layout of a :class:`TokenVocab` of size V::

    0             <pad>   (fills batches past each sequence's length; its embedding is never trained on)
    1             <unk>   (every token outside the vocabulary)
    2 .. V-1      the tokens, most frequent first, ties broken by the token itself (code-point order)

so the same training data always gives the same ids. ``tokens`` says how a text is cut:
``"word"`` (whitespace words, ``str.split``) or ``"char"`` (every character, spaces included).
``lowercase`` folds case before both counting and lookup. ``min_freq`` drops rare tokens and
``max_size`` caps V (specials included); both send the dropped tokens to ``<unk>``.

Needs no torch: ids are plain Python lists (a batch pads them; see :mod:`rnnkit.data.padded`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence

from .errors import DataError

PAD, UNK = "<pad>", "<unk>"
SPECIALS = (PAD, UNK)
PAD_ID, UNK_ID = 0, 1
TOKEN_KINDS = ("word", "char")


class TokenVocab:
    """Args:
    symbols: the ordinary tokens in id order (ids 2..V-1), distinct, neither special.
    tokens: "word" or "char" (how :meth:`tokenize` cuts a text).
    lowercase: fold case before lookup.
    """

    kind = "tokens"

    def __init__(self, symbols: Iterable[str], tokens: str = "word", lowercase: bool = False):
        if tokens not in TOKEN_KINDS:
            raise DataError(f"vocab: expected tokens in {TOKEN_KINDS}, got {tokens!r}")
        symbols = tuple(symbols)
        if any(not isinstance(s, str) or not s or s in SPECIALS for s in symbols):
            bad = next(s for s in symbols if not isinstance(s, str) or not s or s in SPECIALS)
            raise DataError(f"vocab: expected non-empty token strings other than {SPECIALS}, got {bad!r}")
        if len(set(symbols)) != len(symbols):
            raise DataError("vocab: expected distinct tokens, got duplicates")
        self.tokens, self.lowercase = tokens, bool(lowercase)
        self.symbols = SPECIALS + symbols
        self._index = {s: i for i, s in enumerate(self.symbols)}

    # ----- construction -------------------------------------------------------------------------
    @classmethod
    def from_token_lists(
        cls,
        token_lists: Iterable[Sequence[str]],
        tokens: str = "word",
        lowercase: bool = False,
        min_freq: int = 1,
        max_size: int = 0,
    ) -> TokenVocab:
        """Count already-cut tokens (lowercased if asked) and keep the frequent ones."""
        _check_int(min_freq, "min_freq", 1)
        _check_int(max_size, "max_size", 0)
        if max_size and max_size <= len(SPECIALS):
            raise DataError(f"vocab: expected max_size 0 (no cap) or > {len(SPECIALS)}, got {max_size}")
        counts: Counter = Counter()
        for toks in token_lists:
            counts.update(t.lower() for t in toks) if lowercase else counts.update(toks)
        for special in SPECIALS:
            counts.pop(special, None)  # a literal "<unk>" in the data IS the unknown token
        kept = sorted((t for t, n in counts.items() if n >= min_freq), key=lambda t: (-counts[t], t))
        if max_size:
            kept = kept[: max_size - len(SPECIALS)]
        if not kept:
            raise DataError(
                f"vocab: no token occurs at least min_freq={min_freq} times; expected a lower min_freq or more data"
            )
        return cls(kept, tokens, lowercase)

    @classmethod
    def from_texts(cls, texts: Iterable[str], tokens: str = "word", **kwargs) -> TokenVocab:
        return cls.from_token_lists((split_tokens(t, tokens) for t in texts), tokens, **kwargs)

    # ----- use ----------------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.symbols)

    def tokenize(self, text: str) -> list[str]:
        return split_tokens(text, self.tokens)

    def id_of(self, token: str) -> int:
        return self._index.get(token.lower() if self.lowercase else token, UNK_ID)

    def has(self, token: str) -> bool:
        return self.id_of(token) != UNK_ID

    def encode_tokens(self, toks: Sequence[str]) -> list[int]:
        index, lower = self._index, self.lowercase
        return [index.get(t.lower() if lower else t, UNK_ID) for t in toks]

    def encode(self, text: str) -> list[int]:
        return self.encode_tokens(self.tokenize(text))

    def decode(self, ids: Iterable[int]) -> list[str]:
        return [self.symbols[int(i)] for i in ids]

    # ----- persistence --------------------------------------------------------------------------
    def to_dict(self) -> dict:
        return {
            "kind": self.kind,
            "tokens": self.tokens,
            "lowercase": self.lowercase,
            "symbols": list(self.symbols[2:]),
        }

    @classmethod
    def from_dict(cls, d: dict) -> TokenVocab:
        if not isinstance(d, dict) or d.get("kind") != cls.kind or not isinstance(d.get("symbols"), list):
            raise DataError(f"vocab: expected a dict of kind {cls.kind!r} with a 'symbols' list, got {d!r:.80}")
        return cls(d["symbols"], d.get("tokens", "word"), d.get("lowercase", False))

    def __eq__(self, other) -> bool:
        if not isinstance(other, TokenVocab):
            return NotImplemented
        return (self.symbols, self.tokens, self.lowercase) == (other.symbols, other.tokens, other.lowercase)

    def __hash__(self) -> int:
        return hash((self.kind, self.symbols, self.tokens, self.lowercase))

    def __repr__(self) -> str:
        return f"TokenVocab(size={len(self)}, tokens={self.tokens!r}, lowercase={self.lowercase})"


def split_tokens(text: str, tokens: str) -> list[str]:
    """``"word"``: whitespace-separated words; ``"char"``: every character of the stripped text."""
    if not isinstance(text, str):
        raise DataError(f"text: expected a str, got {type(text).__name__}")
    return text.split() if tokens == "word" else list(text.strip())


def _check_int(value, what: str, low: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise DataError(f"vocab: expected {what} to be an integer >= {low}, got {value!r}")
