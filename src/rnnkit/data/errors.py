"""The one exception type of ``rnnkit.data``.

Every bad input the data layer rejects (a missing file, undecodable bytes, a character the
vocabulary lacks, a batch size too big for the corpus) raises :class:`DataError` with a single
line saying what was wrong and what was expected, e.g.::

    data: 37 tokens give fewer than 2 tokens per stream for batch size 32; expected at least 64 tokens, ...

It subclasses ``ValueError`` so callers that only know "bad value" still catch it; the CLI can
catch ``DataError`` alone and print the message without a traceback.
"""

from __future__ import annotations


class DataError(ValueError):
    """Bad input to rnnkit.data: one line, 'what was wrong; expected what'."""
