"""How a text is cut into tokens: the four tokenisations a :class:`Vocab` can have.

Two choices make them: the unit (``tokens``: ``"char"`` or ``"word"``) and whether the text is a
running **stream** (a language model's corpus, whose line structure is part of the data) or one
**sequence** (one example of a classification, tagging or translation task)::

                  stream (language models)                 sequence (one example)
    "char"        every character, "\\n" included           every character of the stripped text
    "word"        whitespace words, "<eos>" per "\\n"        whitespace words (str.split)

Word streams follow the standard Penn Treebank / WikiText readers (Mikolov's ``simple-examples``,
``pytorch/examples`` word_language_model, TensorFlow's ``ptb_word_lm``)::

    " the cat sat \\n on the mat \\n"  ->  the cat sat <eos> on the mat <eos>

Words are maximal runs of non-whitespace (``str.split()``); every ``"\\n"`` is one ``<eos>`` (so an
empty line is a lone ``<eos>``, and a ``"\\r"`` before it is just whitespace). The literal texts
``<eos>`` and ``<unk>`` ARE those tokens: PTB already writes its rare words as ``<unk>``.

Needs no numpy and no torch.
"""

from __future__ import annotations

from ..errors import DataError
from .layout import EOS


def tokenize(text: str, final_eos: bool = False) -> list[str]:
    """Split ``text`` into words, with ``"<eos>"`` for every newline (a word stream).

    Args:
        text: any text.
        final_eos: also end an unterminated last line with ``<eos>`` (what a corpus reader
            wants: every line ends with one). Off for a prime, which may stop mid-line.

    Raises:
        DataError: ``text`` is not a str.
    """
    check_text(text)
    if final_eos and text and not text.endswith("\n"):
        text += "\n"
    # Pad the newline with spaces so it splits as a token of its own; no per-token Python loop.
    return text.replace("\n", f" {EOS} ").split()


def split_tokens(text: str, tokens: str) -> list[str]:
    """One sequence: ``"word"``: whitespace-separated words; ``"char"``: every character of the stripped text."""
    check_text(text)
    return text.split() if tokens == "word" else list(text.strip())


def cut(text: str, tokens: str, stream: bool, final_eos: bool = False) -> list[str]:
    """``text`` as the tokens of a vocabulary of unit ``tokens``, stream or sequence (see the module doc)."""
    if not stream:
        return split_tokens(text, tokens)
    if tokens == "word":
        return tokenize(text, final_eos)
    check_text(text)
    return list(text)


def check_text(text) -> None:
    if not isinstance(text, str):
        raise DataError(f"text: expected a str, got {type(text).__name__}")
