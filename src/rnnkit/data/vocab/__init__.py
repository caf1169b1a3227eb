"""Vocabularies: tokens <-> ids. One class, :class:`Vocab`, with declared specials and a tokenisation.

- :mod:`.vocab`: :class:`Vocab` (ids, encode / decode, unknown tokens, lookup, serialisation);
- :mod:`.layout`: the id layout (specials first) and the special names ``<pad>``, ``<unk>``,
  ``<bos>``, ``<eos>``; :func:`id_dtype`;
- :mod:`.tokenize`: how a text is cut (characters or words, of a stream or of one sequence);
- :mod:`.codepoints`: the vectorised character path (corpora of hundreds of MB);
- :mod:`.counting`: which symbols a vocabulary built from data keeps, in which order;
- :mod:`.forms`: the dicts stored in checkpoints (every old form reads back);
- :mod:`.presets`: today's layouts by name: ``CharVocab``, ``WordVocab``, ``TokenVocab``;
- :mod:`.lines`: line mode, every line framed as ``<bos> ... <eos>`` in one id stream.

Needs numpy only (no torch).
"""

from __future__ import annotations

from .counting import no_words_error
from .forms import TOKEN_SPECIALS, VOCAB_KINDS, WORD_SPECIALS
from .layout import BOS, EOS, PAD, TOKEN_KINDS, UNK, id_dtype
from .lines import line_vocab, lines_to_ids
from .presets import PAD_ID, UNK_ID, CharVocab, TokenVocab, WordVocab, vocab_from_dict
from .tokenize import split_tokens, tokenize
from .vocab import Vocab

__all__ = [
    "BOS",
    "EOS",
    "PAD",
    "PAD_ID",
    "TOKEN_KINDS",
    "TOKEN_SPECIALS",
    "UNK",
    "UNK_ID",
    "VOCAB_KINDS",
    "WORD_SPECIALS",
    "CharVocab",
    "TokenVocab",
    "Vocab",
    "WordVocab",
    "id_dtype",
    "line_vocab",
    "lines_to_ids",
    "no_words_error",
    "split_tokens",
    "tokenize",
    "vocab_from_dict",
]
