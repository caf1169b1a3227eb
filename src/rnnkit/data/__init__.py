"""rnnkit.data: corpora, vocabularies and batches. The leftmost module: imports nothing else from rnnkit.

Data flow::

    read_text(path) -> str -> CharVocab.from_text / .encode -> ids (N,) compact uint
        -> split_ids -> {"train", "val", "test"} -> StreamBatcher -> (x, y) torch.long (B, T)

Line mode (one item per line) replaces ``encode`` with :func:`lines_to_ids`. Word tokens
(``WordVocab``: whitespace words, ``<eos>`` per line, ``<unk>``) replace ``CharVocab``;
:func:`rnnkit.tasks.lm_prepare.prepare_corpus` does it all from a :class:`rnnkit.tasks.DataConfig`.

Classification and tagging read labelled data instead (:func:`read_labeled`: tables, per-class
files; :func:`read_tagged`: CoNLL-U, token/tag columns), build a :class:`TokenVocab` (``<pad>``,
``<unk>``) and pad variable-length batches (``rnnkit.data.padded``); see
:mod:`rnnkit.tasks.labelled_prepare`.

Everything but batching needs numpy only: ``StreamBatcher`` (the one torch user) is imported
lazily, so ``import rnnkit.data`` and tokenising work without loading torch.
"""

from __future__ import annotations

from .corpus import DEFAULT_FRACTIONS, SPLIT_NAMES, read_text, split_ids
from .corpus import _check_codec as check_codec
from .corpus import _check_fractions as check_fractions
from .errors import DataError
from .labeled import LabeledExamples, read_labeled
from .lines import line_vocab, lines_to_ids, split_lines
from .splits import check_classes, split_indices
from .tagged import TaggedSentences, format_columns, format_conllu, looks_like_conllu, parse_tagged, read_tagged
from .token_vocab import PAD_ID, TOKEN_KINDS, UNK_ID, TokenVocab, split_tokens
from .vocab import BOS, EOS, VOCAB_KINDS, CharVocab, id_dtype, vocab_from_dict
from .words import UNK, WordVocab, no_words_error, tokenize

__all__ = [
    "BOS",
    "BucketBatcher",
    "LabeledExamples",
    "PAD_ID",
    "SPLIT_NAMES",
    "TOKEN_KINDS",
    "UNK_ID",
    "check_codec",
    "check_fractions",
    "format_columns",
    "format_conllu",
    "looks_like_conllu",
    "no_words_error",
    "pad_chars",
    "pad_sequences",
    "parse_tagged",
    "split_tokens",
    "TaggedSentences",
    "TokenVocab",
    "check_classes",
    "read_labeled",
    "read_tagged",
    "split_indices",
    "DEFAULT_FRACTIONS",
    "EOS",
    "VOCAB_KINDS",
    "CharVocab",
    "DataError",
    "StreamBatcher",
    "UNK",
    "WordVocab",
    "id_dtype",
    "line_vocab",
    "lines_to_ids",
    "read_text",
    "split_ids",
    "split_lines",
    "tokenize",
    "vocab_from_dict",
]


def __getattr__(name: str):
    # Lazy so that the numpy-only parts never pull in torch.
    if name == "StreamBatcher":
        from .batching import StreamBatcher

        return StreamBatcher
    if name in ("BucketBatcher", "pad_chars", "pad_sequences"):
        from . import padded

        return getattr(padded, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
