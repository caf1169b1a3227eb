"""From raw text to a vocabulary and train/val/test id streams, the way the language models need.

The vocabulary is built from the TRAINING split only (what the model can know); symbols that
appear only in the validation or test text are dropped from those splits (and counted), since
the model could never predict them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .corpus import split_ids
from .lines import line_vocab, lines_to_ids, split_lines
from .vocab import CharVocab


@dataclass
class PreparedCorpus:
    vocab: CharVocab
    splits: dict[str, np.ndarray]  # train / val / test ids in the vocabulary's compact dtype
    dropped: dict[str, int]  # held-out symbols missing from the training vocabulary, per split


def prepare_chars(text: str, fractions=(0.9, 0.05, 0.05), mode: str = "chars") -> PreparedCorpus:
    """``mode="chars"``: the text is one stream of characters, cut contiguously by ``fractions``.
    ``mode="lines"``: one item per line; whole lines go to each split, each framed by <bos>/<eos>."""
    if mode == "lines":
        lines = split_lines(text)
        index = split_ids(np.arange(len(lines), dtype=np.int64), fractions)  # split whole lines
        parts = {name: "\n".join(lines[i] for i in idx) for name, idx in index.items()}
        vocab = line_vocab(parts["train"])
        splits, dropped = {}, {}
        for name, part in parts.items():
            full = lines_to_ids(part, vocab, unknown="skip") if part else np.zeros(0, vocab.dtype)
            splits[name] = full
            dropped[name] = len(vocab.unknown_symbols(part)) if part else 0
        return PreparedCorpus(vocab, splits, dropped)

    everything = CharVocab.from_text(text)
    all_ids = everything.encode(text)  # (N,)
    parts = split_ids(all_ids, fractions)
    present = np.unique(parts["train"])  # symbols the training text contains, sorted
    vocab = CharVocab([everything.symbols[i] for i in present])
    remap = np.full(len(everything), -1, dtype=np.int64)  # old id -> new id, -1 if unseen in training
    remap[present] = np.arange(len(present))
    splits, dropped = {}, {}
    for name, ids in parts.items():
        new = remap[ids]
        keep = new >= 0
        dropped[name] = int((~keep).sum())
        splits[name] = new[keep].astype(vocab.dtype)
    return PreparedCorpus(vocab, splits, dropped)
