"""rnnkit.data: corpora, vocabularies and batches. The leftmost module: imports nothing else from rnnkit.

Data flow::

    read_text(path) -> str -> CharVocab.from_text / .encode -> ids (N,) compact uint
        -> split_ids -> {"train", "val", "test"} -> StreamBatcher -> (x, y) torch.long (B, T)

Line mode (one item per line) replaces ``encode`` with :func:`lines_to_ids`. Word tokens
(``WordVocab``: whitespace words, ``<eos>`` per line, ``<unk>``) replace ``CharVocab``;
:func:`rnnkit.data.prepare.prepare_corpus` does it all from a :class:`DataConfig`.

Everything but batching needs numpy only: ``StreamBatcher`` (the one torch user) is imported
lazily, so ``import rnnkit.data`` and tokenising work without loading torch.
"""

from __future__ import annotations

from .config import DataConfig
from .corpus import DEFAULT_FRACTIONS, read_text, split_ids
from .errors import DataError
from .lines import line_vocab, lines_to_ids, split_lines
from .vocab import BOS, EOS, VOCAB_KINDS, CharVocab, id_dtype, vocab_from_dict
from .words import UNK, WordVocab, tokenize

__all__ = [
    "BOS",
    "DEFAULT_FRACTIONS",
    "EOS",
    "VOCAB_KINDS",
    "CharVocab",
    "DataConfig",
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
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
