"""From raw text to a vocabulary and train/val/test id streams, the way the language models need.

The vocabulary is built from the TRAINING split only (what the model can know). Characters that
appear only in the validation or test text are dropped from those splits (and counted), since
the model could never predict them; words are mapped to ``<unk>`` instead (and counted), the
word-level convention that keeps held-out token counts comparable across papers.

The splits are either contiguous fractions of one text, or explicit held-out files (PTB's
``ptb.valid.txt`` / ``ptb.test.txt``), in which case the main text is all training text.
:func:`prepare_corpus` reads the files a :class:`DataConfig` names and does either.

Fine-tuning (``known``: the checkpoint's metadata, see :mod:`rnnkit.tasks.known`) keeps the
checkpoint's vocabulary instead: a training character outside it is refused, listed; a word
outside it reads as ``<unk>`` (counted in ``unknown["train"]``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from rnnkit.data import (
    EOS,
    SPLIT_NAMES,
    CharVocab,
    WordVocab,
    line_vocab,
    lines_to_ids,
    no_words_error,
    read_text,
    split_ids,
    split_lines,
    tokenize,
    vocab_from_dict,
)
from rnnkit.tasks.known import char_counts, refuse_others
from rnnkit.tasks.lm.config import DataConfig


@dataclass
class PreparedCorpus:
    vocab: CharVocab | WordVocab
    splits: dict[str, np.ndarray]  # train / val / test ids in the vocabulary's compact dtype
    dropped: dict[str, int]  # held-out symbols missing from the training vocabulary, per split
    unknown: dict[str, int] = field(default_factory=dict)  # words: out-of-vocabulary tokens sent to <unk>

    @property
    def unit(self) -> str:
        """What a token is, for messages: "characters" or "words"."""
        return "words" if self.vocab.kind == "word" else "characters"


def prepare_corpus(cfg: DataConfig, sources: str | Sequence[str], known: dict | None = None) -> PreparedCorpus:
    """Read the corpus ``sources`` (and ``cfg.valid`` / ``cfg.test`` when set) and prepare it
    as ``cfg`` says: char or word tokens, contiguous split or explicit held-out files; with the
    vocabulary of ``known`` (a checkpoint's metadata) when given.

    Raises:
        DataError: anything :func:`read_text`, the vocabularies or the split reject.
    """
    text = read_text(sources, cfg.encoding, cfg.errors)
    held_out = None
    if cfg.valid or cfg.test:
        held_out = {
            name: read_text(path, cfg.encoding, cfg.errors) if path else ""
            for name, path in (("val", cfg.valid), ("test", cfg.test))
        }
    vocab = None if known is None else vocab_from_dict(known["vocab"])
    if cfg.tokens == "word":
        return prepare_words(text, cfg.split, cfg.vocab_size, cfg.min_freq, held_out, vocab)
    if vocab is not None:
        chars = "".join(split_lines(text)) if cfg.mode == "lines" else text
        names = [sources] if isinstance(sources, str) else list(sources)
        refuse_others(vocab.ordinary, "characters", char_counts(chars, vocab.unknown_symbols(chars)), names)
    return prepare_chars(text, cfg.split, cfg.mode, held_out, vocab)


def prepare_words(
    text: str,
    fractions=(0.9, 0.05, 0.05),
    vocab_size: int = 0,
    min_freq: int = 1,
    held_out: dict[str, str] | None = None,
    vocab: WordVocab | None = None,
) -> PreparedCorpus:
    """Word tokens (``<eos>`` ending every line, the last included; see :mod:`rnnkit.data.vocab.tokenize`).

    Args:
        text: the corpus; cut contiguously (in tokens) by ``fractions``, or all training text
            when ``held_out`` is given.
        fractions: (train, val, test).
        vocab_size: the largest vocabulary, specials included (0: no limit).
        min_freq: rarer training words become ``<unk>``.
        held_out: ``{"val": text, "test": text}`` (either may be missing or "": an empty split).
        vocab: the vocabulary to encode with (fine-tuning); None: built from the training words.
    """
    if held_out is None:
        tokens = tokenize(text, final_eos=True)
        if all(t == EOS for t in tokens):  # say so before the split complains about its sizes
            raise no_words_error()
        index = split_ids(np.arange(len(tokens), dtype=np.int64), fractions)
        parts = {name: tokens[int(idx[0]) : int(idx[-1]) + 1] if len(idx) else [] for name, idx in index.items()}
    else:
        parts = {"train": tokenize(text, final_eos=True)}
        parts.update({name: tokenize(held_out.get(name) or "", final_eos=True) for name in SPLIT_NAMES[1:]})
    if vocab is None:
        vocab = WordVocab.from_tokens(parts["train"], vocab_size, min_freq)
    splits = {name: vocab.encode_tokens(part) for name, part in parts.items()}
    unknown = {name: vocab.count_unknown(part) for name, part in parts.items()}
    return PreparedCorpus(vocab, splits, dict.fromkeys(parts, 0), unknown)


def prepare_chars(
    text: str,
    fractions=(0.9, 0.05, 0.05),
    mode: str = "chars",
    held_out: dict[str, str] | None = None,
    vocab: CharVocab | None = None,
) -> PreparedCorpus:
    """``mode="chars"``: the text is one stream of characters, cut contiguously by ``fractions``.
    ``mode="lines"``: one item per line; whole lines go to each split, each framed by <bos>/<eos>.
    ``held_out`` (``{"val": text, "test": text}``): the text is all training text, and the
    held-out texts are encoded with its vocabulary, unknown characters dropped. ``vocab``: the
    vocabulary to encode with (fine-tuning: the text holds none of the characters it lacks)."""
    if held_out is not None:
        return _prepare_char_files(text, held_out, mode, vocab)
    if mode == "lines":
        lines = split_lines(text)
        index = split_ids(np.arange(len(lines), dtype=np.int64), fractions)  # split whole lines
        parts = {name: "\n".join(lines[i] for i in idx) for name, idx in index.items()}
        vocab = line_vocab(parts["train"]) if vocab is None else vocab
        splits, dropped = {}, {}
        for name, part in parts.items():
            full = lines_to_ids(part, vocab, unknown="skip") if part else np.zeros(0, vocab.dtype)
            splits[name] = full
            dropped[name] = len(vocab.unknown_symbols(part)) if part else 0
        return PreparedCorpus(vocab, splits, dropped)

    if vocab is not None:
        parts = split_ids(vocab.encode(text), fractions)  # (N,) compact dtype, cut
        return PreparedCorpus(vocab, parts, dict.fromkeys(parts, 0))
    everything = CharVocab.from_text(text)
    all_ids = everything.encode(text)  # (N,) compact dtype
    parts = split_ids(all_ids, fractions)
    # Which symbols the training text contains: a bincount, O(N) and no copy (a 200 MB corpus
    # must not be sorted or widened to int64 here).
    present = np.bincount(parts["train"], minlength=len(everything)) > 0  # (V,)
    if present.all():  # the usual case: the ids are already right, keep the views
        return PreparedCorpus(everything, parts, dict.fromkeys(parts, 0))
    kept = np.flatnonzero(present)
    vocab = CharVocab([everything.symbols[i] for i in kept])
    table = np.zeros(len(everything), dtype=vocab.dtype)  # old id -> new id (compact)
    table[kept] = np.arange(len(kept), dtype=vocab.dtype)
    splits, dropped = {}, {}
    for name, ids in parts.items():
        keep = present[ids]  # (N_split,) bool
        dropped[name] = int(keep.size - np.count_nonzero(keep))
        splits[name] = table[ids if dropped[name] == 0 else ids[keep]]
    return PreparedCorpus(vocab, splits, dropped)


def _prepare_char_files(text: str, held_out: dict[str, str], mode: str, vocab: CharVocab | None) -> PreparedCorpus:
    parts = {"train": text, **{name: held_out.get(name) or "" for name in SPLIT_NAMES[1:]}}
    if vocab is None:
        vocab = line_vocab(text) if mode == "lines" else CharVocab.from_text(text)
    splits, dropped = {}, {}
    for name, part in parts.items():
        if mode == "lines":
            splits[name] = lines_to_ids(part, vocab, unknown="skip") if split_lines(part) else np.zeros(0, vocab.dtype)
            dropped[name] = len(vocab.unknown_symbols(part)) if part else 0
        else:
            splits[name] = vocab.encode(part, unknown="skip")
            dropped[name] = len(part) - len(splits[name])
    return PreparedCorpus(vocab, splits, dropped)
