"""Today's vocabularies under their names: the :class:`Vocab` layouts the existing tasks use.

Each name builds a :class:`Vocab` (it is not a class of its own: ``CharVocab(...)`` returns a
``Vocab``) with exactly the ids, checks, messages and stored form its task has always had::

    CharVocab    character LM: the given specials (none, or <bos> <eos> in line mode), then the
                 characters by code point; a stream of every character, "\\n" included
    WordVocab    word LM: <eos> <unk>, then the words by frequency; a stream of words, <eos> per line
    TokenVocab   classification / tagging: <pad> <unk>, then the tokens by frequency; one sequence
                 per example, cut into words or characters, optionally lowercased

New tasks (translation, captioning) declare what they need on :class:`Vocab` directly, e.g.
``Vocab.from_token_lists(sentences, (PAD, UNK, BOS, EOS), tokens="word")``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from .forms import TOKEN_SPECIALS, WORD_SPECIALS, read_stream, read_tokens
from .tokenize import split_tokens, tokenize
from .vocab import Vocab

#: The ids of a TokenVocab's specials.
PAD_ID, UNK_ID = 0, 1


class CharVocab:
    """``CharVocab(chars, specials=())``: a character stream, ``specials`` first (see the module doc)."""

    kind = "char"

    def __new__(cls, chars: Iterable[str], specials: Sequence[str] = ()) -> Vocab:
        return Vocab(chars, specials, tokens="char", stream=True)

    @staticmethod
    def from_text(text: str, specials: Sequence[str] = ()) -> Vocab:
        """Every distinct character of ``text``, sorted by code point, after ``specials``."""
        return Vocab.from_chars(text, specials)

    @staticmethod
    def from_dict(d: dict) -> Vocab:
        return read_stream(d, "char", Vocab, "CharVocab")


class WordVocab:
    """``WordVocab(words)``: ``<eos>``, ``<unk>``, then ``words`` (ids 2..V-1); a word stream."""

    kind = "word"

    def __new__(cls, words: Iterable[str]) -> Vocab:
        return Vocab(words, WORD_SPECIALS, tokens="word", stream=True)

    @staticmethod
    def from_text(text: str, max_size: int = 0, min_freq: int = 1) -> Vocab:
        """The vocabulary of a training text (each line ending in ``<eos>``): words seen at least
        ``min_freq`` times, at most ``max_size`` ids with the specials (0: no limit)."""
        return WordVocab.from_tokens(tokenize(text, final_eos=True), max_size, min_freq)

    @staticmethod
    def from_tokens(tokens: Iterable[str], max_size: int = 0, min_freq: int = 1) -> Vocab:
        """Like :meth:`from_text` for an already tokenised stream (``"<eos>"`` / ``"<unk>"`` included)."""
        return Vocab.from_token_lists(
            [tokens], WORD_SPECIALS, tokens="word", stream=True, min_freq=min_freq, max_size=max_size
        )

    @staticmethod
    def from_dict(d: dict) -> Vocab:
        return read_stream(d, "word", Vocab, "WordVocab", specials=WORD_SPECIALS)


class TokenVocab:
    """``TokenVocab(symbols, tokens="word", lowercase=False)``: ``<pad>``, ``<unk>``, then ``symbols``; sequences."""

    kind = "tokens"

    def __new__(cls, symbols: Iterable[str], tokens: str = "word", lowercase: bool = False) -> Vocab:
        return Vocab(symbols, TOKEN_SPECIALS, tokens=tokens, stream=False, lowercase=lowercase)

    @staticmethod
    def from_token_lists(
        token_lists: Iterable[Sequence[str]],
        tokens: str = "word",
        lowercase: bool = False,
        min_freq: int = 1,
        max_size: int = 0,
    ) -> Vocab:
        """Count already-cut tokens (lowercased if asked) and keep the frequent ones."""
        return Vocab.from_token_lists(
            token_lists, TOKEN_SPECIALS, tokens=tokens, lowercase=lowercase, min_freq=min_freq, max_size=max_size
        )

    @staticmethod
    def from_texts(texts: Iterable[str], tokens: str = "word", **kwargs) -> Vocab:
        return TokenVocab.from_token_lists((split_tokens(t, tokens) for t in texts), tokens, **kwargs)

    @staticmethod
    def from_dict(d: dict) -> Vocab:
        return read_tokens(d, Vocab)


def vocab_from_dict(d: dict) -> Vocab:
    """Rebuild any vocabulary from its ``to_dict()`` form (see :mod:`.forms`)."""
    return Vocab.from_dict(d)
