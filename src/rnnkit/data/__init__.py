"""rnnkit.data: reading, vocabularies, splits and batches. The leftmost package: imports nothing else from rnnkit.

Grouped by pipeline stage; every stage but batching needs numpy only::

    readers/      files -> plain Python data              text.py  tables.py  conllu.py
    vocab/        tokens <-> ids: one Vocab class         vocab.py (+ layout, tokenize, forms, presets, lines)
    splits.py     train / val / test                      split_ids (contiguous), split_indices (stratified)
    batching/     ids -> torch.long batches               streams.py  padded.py

Data flow of the language models::

    read_text(path) -> str -> CharVocab.from_text / .encode -> ids (N,) compact uint
        -> split_ids -> {"train", "val", "test"} -> StreamBatcher -> (x, y) torch.long (B, T)

Line mode (one item per line, :mod:`rnnkit.data.vocab.lines`) replaces ``encode`` with
:func:`lines_to_ids`, framing each line as ``<bos> ... <eos>``; word tokens (``WordVocab``:
whitespace words, ``<eos>`` per line, ``<unk>``) replace ``CharVocab``;
:func:`rnnkit.data.prepare.prepare_corpus` does it all from a :class:`DataConfig`.

Data flow of the padded-batch tasks (classification, tagging)::

    read_labelled(paths) -> LabelledExamples (texts, labels)  |  read_tagged(path) -> TaggedSentences
        -> split_indices -> TokenVocab.from_token_lists (<pad>, <unk>) -> .encode -> list[int] per example
        -> BucketBatcher + pad_sequences -> (ids (B, T), lengths (B,)) torch.long

(:mod:`rnnkit.data.prepare_tasks`). ``CharVocab``, ``WordVocab`` and ``TokenVocab`` are the names
of today's layouts of the one :class:`Vocab`, whose specials (any of ``<pad>``, ``<unk>``,
``<bos>``, ``<eos>``) are declared at construction.

``StreamBatcher`` is imported lazily (and ``rnnkit.data.batching`` only on demand), so
``import rnnkit.data``, reading and tokenising work without loading torch.
"""

from __future__ import annotations

from .config import DataConfig
from .errors import DataError
from .readers import LabelledExamples, TaggedSentences, read_labelled, read_tagged, read_text, split_lines
from .splits import DEFAULT_FRACTIONS, SPLIT_NAMES, check_classes, split_ids, split_indices
from .task_config import ClassifyDataConfig, TagDataConfig
from .vocab import (
    BOS,
    EOS,
    PAD,
    UNK,
    VOCAB_KINDS,
    CharVocab,
    TokenVocab,
    Vocab,
    WordVocab,
    id_dtype,
    line_vocab,
    lines_to_ids,
    split_tokens,
    tokenize,
    vocab_from_dict,
)

__all__ = [
    "BOS",
    "DEFAULT_FRACTIONS",
    "EOS",
    "PAD",
    "SPLIT_NAMES",
    "UNK",
    "VOCAB_KINDS",
    "CharVocab",
    "ClassifyDataConfig",
    "DataConfig",
    "DataError",
    "LabelledExamples",
    "StreamBatcher",
    "TagDataConfig",
    "TaggedSentences",
    "TokenVocab",
    "Vocab",
    "WordVocab",
    "check_classes",
    "id_dtype",
    "line_vocab",
    "lines_to_ids",
    "read_labelled",
    "read_tagged",
    "read_text",
    "split_ids",
    "split_indices",
    "split_lines",
    "split_tokens",
    "tokenize",
    "vocab_from_dict",
]


def __getattr__(name: str):
    # Lazy so that the numpy-only parts never pull in torch.
    if name == "StreamBatcher":
        from .batching.streams import StreamBatcher

        return StreamBatcher
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
