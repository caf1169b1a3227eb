"""From files to encoded splits for classification (or regression):

    prepare_classification(ClassifyDataConfig, sources, regress=False) -> PreparedClassification

The vocabulary and the label set come from the training split only; held-out examples with a label
training never saw are an error, since no model output could ever match them. The split is
stratified by label (``stratify``) unless regressing. Fine-tuning (``known``: the checkpoint's
metadata, see :mod:`rnnkit.tasks.known`) keeps the checkpoint's vocabulary (unseen words read as
``<unk>``) and labels (a training label it lacks is refused, listed).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from rnnkit.config import is_real
from rnnkit.data import DataError, LabelledExamples, TokenVocab, check_classes, read_labelled, split_tokens
from rnnkit.tasks.classify.config import ClassifyDataConfig
from rnnkit.tasks.known import refuse_others
from rnnkit.tasks.labelled import SPLITS, listed, split_parts


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
    cfg: ClassifyDataConfig, sources: Sequence[str], regress: bool = False, known: dict | None = None
) -> PreparedClassification:
    cfg.validate()
    data = read_examples(cfg, sources)
    held = {name: read_examples(cfg, [path]) for name, path in (("val", cfg.valid), ("test", cfg.test)) if path}
    parts = split_parts(len(data), data.labels if cfg.stratify and not regress else None, cfg, held)
    examples = {name: held.get(name) or data.subset(parts[name]) for name in SPLITS}
    train = examples["train"]
    if len(train) == 0:
        raise DataError(f"data: the training split of {', '.join(sources)} is empty; expected training examples")
    if known is not None:
        vocab, labels = TokenVocab.from_dict(known["vocab"]), [] if regress else list(known["labels"])
        refuse_others(labels, "labels", [] if regress else train.labels, sources)
    else:
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
                value = float(label)
            except ValueError:
                raise DataError(
                    f"data: {origin}: label {label!r} is not a number; expected numeric targets for regression"
                ) from None
            if not is_real(value):
                raise DataError(f"data: {origin}: expected a finite regression target (a float32), got {label!r}")
            out[i] = value
        return out
    index = {label: i for i, label in enumerate(labels)}
    unknown = sorted(set(raw) - set(index))
    if unknown:
        first = next(o for r, o in zip(raw, origins, strict=True) if r not in index)
        shown = ", ".join(repr(u) for u in unknown[:5]) + (", ..." if len(unknown) > 5 else "")
        raise DataError(f"data: {first}: label(s) {shown} not seen in training; expected labels from {listed(labels)}")
    return np.array([index[r] for r in raw], dtype=np.int64)
