"""The id layout every vocabulary shares: the declared specials first, then the ordinary symbols.

A vocabulary of S specials and C ordinary symbols (V = S + C) numbers them::

    0 .. S-1      the specials, in the order declared (e.g. "<pad>", "<unk>", "<bos>", "<eos>")
    S .. V-1      the ordinary symbols, in the order given (code points, or frequency)

The four specials below have a meaning the library acts on (padding, unknown tokens, the start and
the end of an item); any other non-empty name may be declared too and is just a reserved id.
Ids are stored in the smallest unsigned dtype that holds V (:func:`id_dtype`).

The checks here keep each existing vocabulary's messages: a character stream speaks of
"characters", a word stream of "words", a sequence vocabulary of "tokens".
"""

from __future__ import annotations

import numpy as np

from ..errors import DataError

PAD = "<pad>"  # fills a padded batch past each sequence's length
UNK = "<unk>"  # every token outside the vocabulary
BOS = "<bos>"  # the start of an item (line mode; a decoder's first input)
EOS = "<eos>"  # the end of an item or line (what a model emits to stop)

#: How a text is cut into tokens: every character, or whitespace-separated words.
TOKEN_KINDS = ("word", "char")


def id_dtype(size: int) -> np.dtype:
    """The smallest unsigned dtype holding ids 0 .. size-1: uint8 (<= 256), uint16 (<= 65536), else uint32."""
    if size <= 1 << 8:
        return np.dtype(np.uint8)
    if size <= 1 << 16:
        return np.dtype(np.uint16)
    return np.dtype(np.uint32)


def check_layout(symbols: tuple, specials: tuple, tokens: str, stream: bool) -> None:
    """Raise DataError unless ``specials`` + ``symbols`` make a valid vocabulary of this form."""
    if tokens not in TOKEN_KINDS:
        raise DataError(f"vocab: expected tokens in {TOKEN_KINDS}, got {tokens!r}")
    if stream and tokens == "char":
        _check_chars(symbols)
    elif stream:
        _check_words(symbols, specials)
    else:
        _check_tokens(symbols, specials)
    for s in specials:
        if not (isinstance(s, str) and s):
            raise DataError(f"vocab: expected each special to be a non-empty str, got {s!r}")
    dup = _first_duplicate(specials)
    if dup is not None:
        raise DataError(f"vocab: expected distinct specials, got {dup!r} twice")
    clash = set(specials) & set(symbols)
    if clash:  # only characters can get here: words and tokens are checked against the specials above
        raise DataError(
            f"vocab: special {min(clash)!r} is also a character; expected specials distinct "
            f"from the characters, e.g. '<bos>'"
        )
    if stream and tokens == "word" and EOS not in specials:
        raise DataError(
            f"vocab: expected {EOS!r} among the specials of a word stream (every line ends in it), got {specials}"
        )


def _check_chars(chars: tuple) -> None:
    for c in chars:
        if not (isinstance(c, str) and len(c) == 1):
            raise DataError(f"vocab: expected single characters, got {c!r}")
    if not chars:
        raise DataError("vocab: expected at least one character, got none")
    dup = _first_duplicate(chars)
    if dup is not None:
        raise DataError(f"vocab: expected distinct characters, got {dup!r} twice")


def _check_words(words: tuple, specials: tuple) -> None:
    seen: set[str] = set()
    for w in words:
        if not (isinstance(w, str) and w) or len(w.split()) != 1 or w.split()[0] != w:
            raise DataError(f"vocab: expected each word to be a non-empty str without whitespace, got {w!r}")
        if w in specials:
            raise DataError(f"vocab: the special {w!r} cannot also be an ordinary word; expected it only as a special")
        if w in seen:
            raise DataError(f"vocab: expected distinct words, got {w!r} twice")
        seen.add(w)


def _check_tokens(tokens: tuple, specials: tuple) -> None:
    for t in tokens:
        if not isinstance(t, str) or not t or t in specials:
            raise DataError(f"vocab: expected non-empty token strings other than {specials}, got {t!r}")
    if len(set(tokens)) != len(tokens):
        raise DataError("vocab: expected distinct tokens, got duplicates")


def _first_duplicate(items: tuple):
    seen = set()
    for x in items:
        if x in seen:
            return x
        seen.add(x)
    return None
