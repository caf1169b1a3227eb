"""Words for translation: punctuation split off, and a joiner mark so the text can be rebuilt.

The rule (:func:`cut_words`), applied to one sentence:

1. Optionally fold case (``lowercase``: ``str.lower``).
2. Split on whitespace (any Unicode space; U+FFED, the joiner mark below, reads as a space too).
3. Within each whitespace-free chunk, a **word** is a maximal run of word characters (letters,
   digits, marks, ``_``: Python's ``\\w``), which may hold an apostrophe (``'`` or ``’``) or a
   hyphen between two word characters (``l'homme``, ``don't``, ``t-shirt`` stay one word); every
   other character is a **punctuation** token of its own (``...`` is three).
4. Where two tokens touched (no space between them), the punctuation side carries the **joiner**
   ``￭`` (U+FFED, as OpenNMT's tokenizer marks it): on the front of a punctuation token that
   follows, else on the back of a punctuation token that precedes::

       "Hello, world!"   ->  Hello ￭, world ￭!
       "(l'homme) ?"     ->  (￭ l'homme ￭) ?
       "Wait...what"     ->  Wait ￭. ￭. ￭.￭ what        (two words only touch across punctuation)

:func:`join_words` inverts it: tokens joined by one space, except where a joiner says "no space".
So ``join_words(cut_words(s)) == " ".join(s.split())`` (whitespace runs become one space; with
``lowercase`` the case is gone): the decoded output is real text, which is what BLEU scores. The
model learns where spaces go, per language (French writes ``" ?"``, English ``"?"``).
Needs nothing beyond the standard library.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

#: The mark of "no space here" (U+FFED HALFWIDTH BLACK SQUARE, OpenNMT's joiner).
JOINER = "\uffed"

_TOKEN = re.compile(r"\w+(?:['’\-]\w+)*|[^\w\s]")


def cut_words(text: str, lowercase: bool = False) -> list[str]:
    """One sentence -> its tokens by the rule in the module doc."""
    if lowercase:
        text = text.lower()
    tokens: list[str] = []
    for chunk in text.replace(JOINER, " ").split():
        pieces = _TOKEN.findall(chunk)
        for k, piece in enumerate(pieces):
            if k and _is_punctuation(piece):
                piece = JOINER + piece  # touches the token before it
            elif k:  # a word touching punctuation before it: the joiner goes on that punctuation
                tokens[-1] += JOINER
            tokens.append(piece)
    return tokens


def join_words(tokens: Sequence[str]) -> str:
    """Tokens (a model's output: any order) -> text, a space between two tokens unless a joiner
    is on either side of the gap; the joiners themselves are removed."""
    out: list[str] = []
    glue = True  # no space before the first token
    for token in tokens:
        front, back = token.startswith(JOINER), token.endswith(JOINER) and len(token) > 1
        core = token[1 if front else 0 : len(token) - 1 if back else len(token)]
        if out and not (glue or front):
            out.append(" ")
        out.append(core.replace(JOINER, ""))
        glue = back
    return "".join(out)


def _is_punctuation(piece: str) -> bool:
    return len(piece) == 1 and not piece.isalnum() and piece != "_"
