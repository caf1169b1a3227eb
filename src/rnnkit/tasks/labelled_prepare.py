"""From files to encoded splits for the padded-batch tasks: classification and tagging.

    prepare_classification(ClassifyDataConfig, sources, regress=False) -> PreparedClassification
    prepare_tagging(TagDataConfig, sources) -> PreparedTagging

The vocabulary and the label set come from the training split only; held-out examples with a
label (or tag) training never saw are an error, since no model output could ever match them.
Without separate ``valid`` / ``test`` files the sources are split by ``split`` with
``split_seed`` (stratified by label for classification): the same data and seed always give the
same split, so ``rnnkit eval`` can rebuild the test split from the checkpoint's settings.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from rnnkit.data import (
    DataError,
    LabelledExamples,
    TaggedSentences,
    TokenVocab,
    check_classes,
    read_labelled,
    read_tagged,
    split_indices,
    split_tokens,
)
from rnnkit.tasks.labelled_config import ClassifyDataConfig, TagDataConfig

SPLITS = ("train", "val", "test")


# ----- classification -------------------------------------------------------------------------
@dataclass
class PreparedClassification:
    vocab: TokenVocab
    labels: list[str]  # class names in id order ([] for regression)
    examples: dict[str, LabelledExamples]  # raw text and labels per split
    splits: dict[str, tuple[list[list[int]], np.ndarray]] = field(default_factory=dict)  # ids, targets


def read_examples(cfg: ClassifyDataConfig, sources: Sequence[str]) -> LabelledExamples:
    return read_labelled(
        list(sources),
        text_column=cfg.column("text_column"),
        label_column=cfg.column("label_column"),
        delimiter=cfg.delimiter or None,
        header=cfg.header,
        encoding=cfg.encoding,
        errors=cfg.errors,
    )


def prepare_classification(
    cfg: ClassifyDataConfig, sources: Sequence[str], regress: bool = False
) -> PreparedClassification:
    cfg.validate()
    data = read_examples(cfg, sources)
    held = {name: read_examples(cfg, [path]) for name, path in (("val", cfg.valid), ("test", cfg.test)) if path}
    parts = _split(len(data), data.labels if cfg.stratify and not regress else None, cfg, held)
    examples = {name: held.get(name) or data.subset(parts[name]) for name in SPLITS}
    train = examples["train"]
    if len(train) == 0:
        raise DataError(f"data: the training split of {', '.join(sources)} is empty; expected training examples")
    token_lists = [split_tokens(t, cfg.tokens) for t in train.texts]
    vocab = TokenVocab.from_token_lists(
        token_lists, cfg.tokens, lowercase=cfg.lowercase, min_freq=cfg.min_freq, max_size=cfg.max_vocab
    )
    labels = [] if regress else check_classes(train.labels, f"the training data ({', '.join(sources)})")
    prepared = PreparedClassification(vocab, labels, examples)
    for name in SPLITS:
        prepared.splits[name] = encode_examples(examples[name], vocab, labels, cfg.max_length, regress)
    return prepared


def encode_examples(
    examples: LabelledExamples, vocab: TokenVocab, labels: list[str], max_length: int = 0, regress: bool = False
) -> tuple[list[list[int]], np.ndarray]:
    """Token ids per example (at most ``max_length``) and the targets: class ids, or numbers for
    regression. A label outside ``labels``, a non-numeric regression target or a text without
    tokens is a DataError naming its file and line."""
    seqs = []
    for text, origin in zip(examples.texts, examples.origins, strict=True):
        ids = vocab.encode(text)
        if not ids:
            raise DataError(f"data: {origin}: empty text; expected at least one token")
        seqs.append(ids[:max_length] if max_length else ids)
    return seqs, encode_labels(examples.labels, examples.origins, labels, regress)


def encode_labels(raw: Sequence[str], origins: Sequence[str], labels: list[str], regress: bool) -> np.ndarray:
    if regress:
        out = np.empty(len(raw), dtype=np.float32)
        for i, (label, origin) in enumerate(zip(raw, origins, strict=True)):
            try:
                out[i] = float(label)
            except ValueError:
                raise DataError(
                    f"data: {origin}: label {label!r} is not a number; expected numeric targets for regression"
                ) from None
        return out
    index = {label: i for i, label in enumerate(labels)}
    unknown = sorted(set(raw) - set(index))
    if unknown:
        first = next(o for r, o in zip(raw, origins, strict=True) if r not in index)
        shown = ", ".join(repr(u) for u in unknown[:5]) + (", ..." if len(unknown) > 5 else "")
        raise DataError(f"data: {first}: label(s) {shown} not seen in training; expected labels from {_shown(labels)}")
    return np.array([index[r] for r in raw], dtype=np.int64)


# ----- tagging ------------------------------------------------------------------------------
@dataclass
class PreparedTagging:
    vocab: TokenVocab  # words
    chars: TokenVocab  # characters of the training words
    tags: list[str]  # tag names in id order
    sentences: dict[str, TaggedSentences]


def read_sentences(cfg: TagDataConfig, sources: Sequence[str], with_tags: bool = True) -> TaggedSentences:
    parts = [
        read_tagged(s, cfg.format, cfg.column, with_tags=with_tags, encoding=cfg.encoding, errors=cfg.errors)
        for s in sources
    ]
    if len(parts) == 1:
        return parts[0]
    return TaggedSentences(
        [t for p in parts for t in p.tokens],
        None if not with_tags else [t for p in parts for t in p.tags],
        [o for p in parts for o in p.origins],
    )


def prepare_tagging(cfg: TagDataConfig, sources: Sequence[str]) -> PreparedTagging:
    cfg.validate()
    data = read_sentences(cfg, sources)
    held = {name: read_sentences(cfg, [path]) for name, path in (("val", cfg.valid), ("test", cfg.test)) if path}
    parts = _split(len(data), None, cfg, held)
    sentences = {name: held.get(name) or _subset(data, parts[name]) for name in SPLITS}
    train = sentences["train"]
    if len(train) == 0:
        raise DataError(f"data: the training split of {', '.join(sources)} is empty; expected training sentences")
    vocab = TokenVocab.from_token_lists(
        train.tokens, "word", lowercase=cfg.lowercase, min_freq=cfg.min_freq, max_size=cfg.max_vocab
    )
    chars = TokenVocab.from_token_lists(([c for w in s for c in w] for s in train.tokens), "char")
    tags = check_classes([t for s in train.tags for t in s], f"the training tags ({', '.join(sources)})")
    return PreparedTagging(vocab, chars, tags, sentences)


def encode_sentences(
    sentences: TaggedSentences, vocab: TokenVocab, chars: TokenVocab | None, tags: list[str] | None
) -> tuple[list[list[int]], list[list[list[int]]] | None, list[list[int]] | None]:
    """Word ids, character ids per word (if ``chars``), tag ids (if ``tags`` and the sentences have
    tags; an unseen tag is a DataError naming the sentence)."""
    words = [vocab.encode_tokens(s) for s in sentences.tokens]
    spelled = None if chars is None else [[chars.encode_tokens(list(w)) for w in s] for s in sentences.tokens]
    tag_ids = None
    if tags is not None and sentences.tags is not None:
        index = {t: i for i, t in enumerate(tags)}
        tag_ids = []
        for s, origin in zip(sentences.tags, sentences.origins, strict=True):
            try:
                tag_ids.append([index[t] for t in s])
            except KeyError as e:
                raise DataError(
                    f"data: {origin}: tag {e.args[0]!r} not seen in training; expected tags from {_shown(tags)}"
                ) from None
    return words, spelled, tag_ids


# ----- shared ---------------------------------------------------------------------------------
def _split(n: int, labels, cfg, held: dict) -> dict[str, list[int]]:
    """Indices of the train / val / test parts of the sources (a part given as a file is empty)."""
    fractions = [cfg.split[0], 0.0 if "val" in held else cfg.split[1], 0.0 if "test" in held else cfg.split[2]]
    total = sum(fractions)
    if fractions[1] == 0 and fractions[2] == 0:
        return {"train": list(range(n)), "val": [], "test": []}
    used = [i for i, f in enumerate(fractions) if f > 0]
    cuts = split_indices(
        labels if labels is not None else ["_"] * n,
        [fractions[i] / total for i in used],
        cfg.split_seed,
        stratify=labels is not None,
    )
    out = {name: [] for name in SPLITS}
    for i, part in zip(used, cuts, strict=True):
        out[SPLITS[i]] = list(part)
    return out


def _subset(data: TaggedSentences, rows: list[int]) -> TaggedSentences:
    return TaggedSentences(
        [data.tokens[r] for r in rows],
        None if data.tags is None else [data.tags[r] for r in rows],
        [data.origins[r] for r in rows],
    )


def _shown(labels: Sequence[str], limit: int = 8) -> str:
    return "[" + ", ".join(repr(x) for x in labels[:limit]) + (", ...]" if len(labels) > limit else "]")
