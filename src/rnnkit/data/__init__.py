"""rnnkit.data: reading, vocabularies, splits and batches. The leftmost package: imports nothing else from rnnkit.

Grouped by pipeline stage; every stage but batching needs numpy only::

    readers/      files -> plain Python data              text.py  tables.py  conllu.py  plain_words.py
    vocab/        tokens <-> ids: one Vocab class         vocab.py (+ layout, tokenize, forms, presets, lines)
    splits.py     train / val / test                      split_ids (contiguous), split_indices (stratified)
    batching/     ids -> torch.long batches               streams.py  padded.py

Data flow of the language models::

    read_text(path) -> str -> CharVocab.from_text / .encode -> ids (N,) compact uint
        -> split_ids -> {"train", "val", "test"} -> StreamBatcher -> (x, y) torch.long (B, T)

Line mode (one item per line, :mod:`rnnkit.data.vocab.lines`) replaces ``encode`` with
:func:`lines_to_ids`, framing each line as ``<bos> ... <eos>``; word tokens (``WordVocab``:
whitespace words, ``<eos>`` per line, ``<unk>``) replace ``CharVocab``;
:func:`rnnkit.tasks.lm.prepare.prepare_corpus` does it all from a :class:`rnnkit.tasks.DataConfig`.

Data flow of the padded-batch tasks (classification, tagging)::

    read_labelled(paths) -> LabelledExamples (texts, labels)  |  read_tagged(path) -> TaggedSentences
        -> split_indices -> TokenVocab.from_token_lists (<pad>, <unk>) -> .encode -> list[int] per example
        -> BucketBatcher + pad_sequences -> (ids (B, T), lengths (B,)) torch.long

(:mod:`rnnkit.tasks.classify.prepare`, :mod:`rnnkit.tasks.tag.prepare`). Plain text to tag is cut
into words as UD English EWT cuts them: ``plain_sentences(text, name)`` (:func:`ud_tokenize` per
line). ``CharVocab``, ``WordVocab`` and ``TokenVocab`` are the names of today's layouts of the one
:class:`Vocab`, whose specials (any of ``<pad>``, ``<unk>``, ``<bos>``, ``<eos>``) are declared at
construction.

``StreamBatcher`` is imported lazily (and ``rnnkit.data.batching`` only on demand), so
``import rnnkit.data``, reading and tokenising work without loading torch.
"""

from __future__ import annotations

from .errors import DataError
from .readers import (
    LabelledExamples,
    TaggedSentences,
    check_codec,
    conllu_lines,
    format_columns,
    format_conllu,
    looks_like_conllu,
    parse_tagged,
    plain_sentences,
    read_labelled,
    read_tagged,
    read_text,
    split_lines,
    ud_tokenize,
)
from .splits import DEFAULT_FRACTIONS, SPLIT_NAMES, check_classes, check_fractions, split_ids, split_indices
from .vocab import (
    BOS,
    EOS,
    PAD,
    PAD_ID,
    TOKEN_KINDS,
    UNK,
    UNK_ID,
    VOCAB_KINDS,
    CharVocab,
    TokenVocab,
    Vocab,
    WordVocab,
    id_dtype,
    line_vocab,
    lines_to_ids,
    no_words_error,
    split_tokens,
    tokenize,
    vocab_from_dict,
)

#: Imported on first use (they need torch): name -> module under rnnkit.data.batching
_LAZY = {"StreamBatcher": "streams", "BucketBatcher": "padded", "pad_chars": "padded", "pad_sequences": "padded"}

__all__ = [
    "BOS",
    "DEFAULT_FRACTIONS",
    "EOS",
    "PAD",
    "PAD_ID",
    "SPLIT_NAMES",
    "TOKEN_KINDS",
    "UNK",
    "UNK_ID",
    "VOCAB_KINDS",
    "BucketBatcher",
    "CharVocab",
    "DataError",
    "LabelledExamples",
    "StreamBatcher",
    "TaggedSentences",
    "TokenVocab",
    "Vocab",
    "WordVocab",
    "check_classes",
    "check_codec",
    "check_fractions",
    "format_columns",
    "conllu_lines",
    "format_conllu",
    "id_dtype",
    "line_vocab",
    "lines_to_ids",
    "looks_like_conllu",
    "no_words_error",
    "pad_chars",
    "pad_sequences",
    "parse_tagged",
    "plain_sentences",
    "read_labelled",
    "read_tagged",
    "read_text",
    "split_ids",
    "split_indices",
    "split_lines",
    "split_tokens",
    "tokenize",
    "ud_tokenize",
    "vocab_from_dict",
]


def __getattr__(name: str):
    # Lazy so that the numpy-only parts never pull in torch.
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f".batching.{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
