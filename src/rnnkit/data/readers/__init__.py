"""Readers: files in, plain Python data out (str, lists of texts / tokens / labels), no ids, no torch.

One module per source format; each names the file and line of anything it rejects (``DataError``):

- :mod:`.text`: a corpus as one str (a file, a directory of ``*.txt``, a list; ``.gz``; any codec)
  and its non-empty lines (:func:`split_lines`): what the language models read.
- :mod:`.tables`: labelled examples (:class:`LabelledExamples`) from a TSV/CSV table or from one
  file per class: what the classifier reads.
- :mod:`.conllu`: tagged sentences (:class:`TaggedSentences`) from CoNLL-U or ``token<TAB>tag``
  columns, and the writers of both: what the tagger reads and writes.
- :mod:`.plain_words`: plain text cut into words as UD English EWT cuts them (:func:`ud_tokenize`),
  and one sentence per line of it (:func:`plain_sentences`): what the tagger tags.

A new source (parallel text for translation, time series for forecasting) is a new module here
that returns its own plain record type; vocabularies and batching come after, in their packages.
"""

from __future__ import annotations

from .conllu import (
    TAG_COLUMNS,
    TaggedSentences,
    conllu_lines,
    format_columns,
    format_conllu,
    looks_like_conllu,
    parse_tagged,
    read_columns,
    read_conllu,
    read_tagged,
)
from .plain_words import plain_sentences, ud_tokenize
from .tables import LabelledExamples, read_labelled
from .text import check_codec, read_text, split_lines

__all__ = [
    "TAG_COLUMNS",
    "LabelledExamples",
    "TaggedSentences",
    "check_codec",
    "format_columns",
    "conllu_lines",
    "format_conllu",
    "looks_like_conllu",
    "parse_tagged",
    "plain_sentences",
    "read_columns",
    "read_conllu",
    "read_labelled",
    "read_tagged",
    "read_text",
    "split_lines",
    "ud_tokenize",
]
