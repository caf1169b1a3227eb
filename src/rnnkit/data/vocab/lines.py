"""Line mode: a corpus of separate items, one per line (names, words, short sentences).

Each non-empty line becomes one item framed by the specials, and the items are laid end to
end in one id stream that :class:`rnnkit.data.batching.streams.StreamBatcher` cuts like any text::

    "anna\\nbob\\n"  ->  <bos> a n n a <eos> <bos> b o b <eos>

So the model learns where an item starts and when to stop: sampling starts from ``<bos>`` and
ends at ``<eos>``. The newline itself is only a separator and is never encoded; a ``"\\r"``
before it (Windows line ends) is dropped too.
"""

from __future__ import annotations

import numpy as np

from ..errors import DataError
from ..readers.text import split_lines
from .layout import BOS, EOS
from .vocab import Vocab

_LINE_ENDS = "\r\n"


def line_vocab(text: str) -> Vocab:
    """A vocabulary for line mode: ``<bos>``, ``<eos>``, then the characters of the lines
    (newlines excluded, since they are never encoded)."""
    return Vocab.from_chars("".join(split_lines(text)), specials=(BOS, EOS))


def lines_to_ids(text: str, vocab: Vocab, unknown: str = "error") -> np.ndarray:
    """One id stream holding every non-empty line as ``<bos> chars <eos>``.

    Args:
        text: the corpus, one item per line.
        vocab: a character vocabulary with the ``"<bos>"`` and ``"<eos>"`` specials (e.g. from
            :func:`line_vocab`).
        unknown: ``"error"`` or ``"skip"``, as in :meth:`Vocab.encode`. A line left empty
            by skipping is dropped.

    Shapes:
        I lines with n_1..n_I characters -> ids (sum n_i + 2 I,), dtype ``vocab.dtype``.

    Raises:
        DataError: the vocabulary lacks ``<bos>`` or ``<eos>``; the text has no non-empty
            line; ``unknown="error"`` and a character is not in the vocabulary.
    """
    if unknown not in ("error", "skip"):
        raise DataError(f"lines: expected unknown='error' or 'skip', got {unknown!r}")
    bos, eos = vocab.bos_id, vocab.eos_id
    if bos is None or eos is None:
        raise DataError(
            f"lines: the vocabulary has specials {vocab.specials}; expected both {BOS!r} and "
            f"{EOS!r}, e.g. a vocabulary from line_vocab(text)"
        )
    if unknown == "skip":
        # Drop unknown characters first, so each line's length is its length in ids.
        missing = [c for c in vocab.unknown_symbols(text) if c not in _LINE_ENDS]
        text = text.translate(dict.fromkeys(map(ord, missing)))
    lines = split_lines(text)
    if not lines:
        raise DataError("lines: the text has no non-empty line; expected one item per line")
    # All lines in one vectorised encode (chars carry no context, so joining changes nothing).
    body = vocab.encode("".join(lines), unknown="error")  # (sum n_i,)
    lengths = np.fromiter((len(line) for line in lines), dtype=np.int64, count=len(lines))  # (I,)
    framed = lengths + 2  # (I,) each item with its <bos> and <eos>
    bos_pos = np.cumsum(framed) - framed  # (I,) where each item starts
    eos_pos = bos_pos + lengths + 1  # (I,)
    out = np.empty(body.shape[0] + 2 * len(lines), dtype=vocab.dtype)  # (sum n_i + 2 I,)
    is_char = np.ones(out.shape[0], dtype=bool)
    is_char[bos_pos] = False
    is_char[eos_pos] = False
    out[bos_pos] = bos
    out[eos_pos] = eos
    out[is_char] = body
    return out
