"""From files to encoded splits for tagging:

    prepare_tagging(TagDataConfig, sources) -> PreparedTagging

The word and character vocabularies and the tag set come from the training split only; a held-out
tag training never saw is an error. The split is by sentence (not stratified). Fine-tuning
(``known``: the checkpoint's metadata, see :mod:`rnnkit.tasks.known`) keeps the checkpoint's word
and character vocabularies (unseen words read as ``<unk>``) and tags (a training tag it lacks is
refused, listed).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rnnkit.data import DataError, TaggedSentences, TokenVocab, check_classes, read_tagged
from rnnkit.tasks.known import refuse_others
from rnnkit.tasks.labelled import SPLITS, listed, split_parts
from rnnkit.tasks.tag.config import TagDataConfig


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


def prepare_tagging(cfg: TagDataConfig, sources: Sequence[str], known: dict | None = None) -> PreparedTagging:
    cfg.validate()
    data = read_sentences(cfg, sources)
    held = {name: read_sentences(cfg, [path]) for name, path in (("val", cfg.valid), ("test", cfg.test)) if path}
    parts = split_parts(len(data), None, cfg, held)
    sentences = {name: held.get(name) or _subset(data, parts[name]) for name in SPLITS}
    train = sentences["train"]
    if len(train) == 0:
        raise DataError(f"data: the training split of {', '.join(sources)} is empty; expected training sentences")
    train_tags = [t for s in train.tags for t in s]
    if known is not None:
        vocab, tags = TokenVocab.from_dict(known["vocab"]), list(known["tags"])
        refuse_others(tags, "tags", train_tags, sources)
    else:
        vocab = TokenVocab.from_token_lists(
            train.tokens, "word", lowercase=cfg.lowercase, min_freq=cfg.min_freq, max_size=cfg.max_vocab
        )
        tags = check_classes(train_tags, f"the training tags ({', '.join(sources)})")
    if known is not None and "chars" in known:
        chars = TokenVocab.from_dict(known["chars"])
    else:  # (a tagger without character features stores none in rnnkit 0.1)
        chars = TokenVocab.from_token_lists(([c for w in s for c in w] for s in train.tokens), "char")
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
                    f"data: {origin}: tag {e.args[0]!r} not seen in training; expected tags from {listed(tags)}"
                ) from None
    return words, spelled, tag_ids


def _subset(data: TaggedSentences, rows: list[int]) -> TaggedSentences:
    return TaggedSentences(
        [data.tokens[r] for r in rows],
        None if data.tags is None else [data.tags[r] for r in rows],
        [data.origins[r] for r in rows],
    )
