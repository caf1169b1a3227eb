"""Which ordinary symbols a vocabulary built from data keeps, and in which order (so, their ids).

- every distinct character, by code point (:func:`rnnkit.data.vocab.codepoints.distinct_chars`):
  a character language model, whose vocabulary is the training text's alphabet;
- :func:`ranked_tokens`: tokens seen at least ``min_freq`` times, most frequent first, ties broken
  by the token itself (code-point order), at most ``max_size`` ids in all (specials included).
  A literal special in the data (PTB's ``<unk>``) IS that special, never an ordinary token.

So the same training data always gives the same ids, whatever the order of appearance. The option
checks speak the language of the pipeline that builds the vocabulary: the language models'
``--vocab-size`` / ``--min-freq`` (streams), the tasks' ``min_freq`` / ``max_size`` (sequences).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence

import numpy as np

from ..errors import DataError


def ranked_tokens(
    token_lists: Iterable[Sequence[str]],
    specials: tuple[str, ...],
    stream: bool,
    lowercase: bool = False,
    min_freq: int = 1,
    max_size: int = 0,
) -> list[str]:
    """The kept tokens of ``token_lists`` in id order (see the module doc).

    Raises:
        DataError: bad ``min_freq`` / ``max_size``; no token left (none at all, or none frequent enough).
    """
    S = len(specials)
    if stream:
        _check_int(max_size, "vocabulary size", 0)
        _check_int(min_freq, "minimum frequency", 1)
        if 0 < max_size < S + 1:
            raise DataError(
                f"vocab: expected a vocabulary size of 0 (no limit) or at least {S + 1} "
                f"({' and '.join(specials)} plus one word), got {max_size}"
            )
    else:
        _check_int(min_freq, "min_freq", 1)
        _check_int(max_size, "max_size", 0)
        if max_size and max_size <= S:
            raise DataError(f"vocab: expected max_size 0 (no cap) or > {S}, got {max_size}")
    counts: Counter = Counter()
    for toks in token_lists:
        counts.update(t.lower() for t in toks) if lowercase else counts.update(toks)
    for special in specials:
        counts.pop(special, None)  # a literal "<unk>" in the data IS the unknown token
    if stream and not counts:
        raise no_words_error()
    # Frequency first, then the token, so equal counts never depend on dict order.
    kept = sorted((t for t, n in counts.items() if n >= min_freq), key=lambda t: (-counts[t], t))
    if not kept and stream:
        top = max(counts.values())
        raise DataError(
            f"vocab: no word occurs at least {min_freq} times (the most frequent occurs {top}); "
            f"expected a smaller --min-freq"
        )
    if not kept:
        raise DataError(
            f"vocab: no token occurs at least min_freq={min_freq} times; expected a lower min_freq or more data"
        )
    return kept[: max_size - S] if max_size else kept


def no_words_error() -> DataError:
    return DataError(
        "text: cannot build a word vocabulary from text without words; expected at least one "
        "word (a run of non-whitespace characters)"
    )


def _check_int(value, what: str, low: int) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        raise DataError(f"vocab: expected {what} to be an integer >= {low}, got {value!r}")
