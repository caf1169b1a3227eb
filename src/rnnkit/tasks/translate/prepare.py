"""From files to encoded splits for translation:

    prepare_translation(TranslateDataConfig, sources, known=None) -> PreparedTranslation

Sources: one pair table (``source<TAB>target``, any columns), or two aligned files (source side
first). Held-out data: ``valid`` / ``test`` as pair tables, or with ``valid_target`` /
``test_target`` as aligned files; else a seeded split of the sources. The segmenters (a subword
model is trained here) and the vocabularies come from the training split only. Every target ends
in ``<eos>``; ``max_length`` drops long training pairs (counted in ``dropped``). ``known`` (a
checkpoint's metadata: resume, eval, fine-tuning) gives the segmenters and vocabularies instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from rnnkit.data import DataError
from rnnkit.data.readers.parallel import ParallelText, read_parallel_files, read_parallel_table
from rnnkit.data.segment import Segmenter, Subwords, Words, segmenter_from_dict
from rnnkit.data.vocab import BOS, EOS, PAD, UNK, Vocab
from rnnkit.tasks.labelled import SPLITS, split_parts
from rnnkit.tasks.translate.config import TranslateDataConfig

#: The specials of both sides' vocabularies, ids 0..3 (the translator's pad_id, bos_id, eos_id).
SPECIALS = (PAD, UNK, BOS, EOS)


@dataclass
class PreparedTranslation:
    source_vocab: Vocab
    target_vocab: Vocab
    source_segmenter: Segmenter
    target_segmenter: Segmenter
    pairs: dict[str, ParallelText]  # raw text per split (training: after the length filter)
    splits: dict[str, tuple[list[list[int]], list[list[int]]]] = field(default_factory=dict)  # source, target ids
    dropped: dict[str, int] = field(default_factory=dict)  # "empty" (any split), "long" (training pairs)

    @property
    def vocab(self) -> Vocab:
        """The output side's vocabulary (the run metadata's ``vocab``; the source side's is an extra)."""
        return self.target_vocab


def read_pairs(cfg: TranslateDataConfig, sources: Sequence[str]) -> ParallelText:
    """The pairs of the sources: one table, or two aligned files."""
    if len(sources) == 1:
        return read_parallel_table(sources[0], cfg.source_column, cfg.target_column, cfg.encoding, cfg.errors)
    if len(sources) == 2:
        return read_parallel_files(sources[0], sources[1], cfg.encoding, cfg.errors)
    raise DataError(
        f"data: expected one pair table (source<TAB>target) or two aligned files (source, target), got "
        f"{len(sources)} files"
    )


def read_held_out(cfg: TranslateDataConfig) -> dict[str, ParallelText]:
    held = {}
    for name, side in (("val", "valid"), ("test", "test")):
        path, target = getattr(cfg, side), getattr(cfg, f"{side}_target")
        if path:
            held[name] = read_pairs(cfg, [path, target] if target else [path])
    return held


def prepare_translation(
    cfg: TranslateDataConfig, sources: Sequence[str], known: dict | None = None
) -> PreparedTranslation:
    cfg.validate()
    data = read_pairs(cfg, sources)
    held = read_held_out(cfg)
    parts = split_parts(len(data), None, cfg, held)
    pairs = {name: held.get(name) or data.subset(parts[name]) for name in SPLITS}
    if len(pairs["train"]) == 0:
        raise DataError(f"data: the training split of {', '.join(sources)} is empty; expected training pairs")
    if known is not None:
        seg_s, seg_t = (segmenter_from_dict(known["segmenters"][k]) for k in ("source", "target"))
        vocab_s, vocab_t = Vocab.from_dict(known["source_vocab"]), Vocab.from_dict(known["vocab"])
    else:
        seg_s, seg_t = train_segmenters(cfg, pairs["train"])
    tokens = {name: _cut(pairs[name], seg_s, seg_t) for name in SPLITS}
    dropped = {"empty": data.dropped_empty + sum(p.dropped_empty for p in held.values()), "long": 0}
    if cfg.max_length:
        keep = [i for i, (s, t) in enumerate(zip(*tokens["train"])) if len(s) <= cfg.max_length >= len(t)]
        dropped["long"] = len(pairs["train"]) - len(keep)
        pairs["train"] = pairs["train"].subset(keep)
        tokens["train"] = ([tokens["train"][0][i] for i in keep], [tokens["train"][1][i] for i in keep])
        if not keep:
            raise DataError(
                f"data: every training pair has a side longer than max_length={cfg.max_length} tokens; "
                "expected a larger --max-length (0: no limit)"
            )
    if known is None:
        vocab_s, vocab_t = build_vocabs(cfg, *tokens["train"])
    prepared = PreparedTranslation(vocab_s, vocab_t, seg_s, seg_t, pairs, dropped=dropped)
    for name in SPLITS:
        src, tgt = tokens[name]
        eos = vocab_t.eos_id
        prepared.splits[name] = (
            [vocab_s.encode_tokens(s) for s in src],
            [[*vocab_t.encode_tokens(t), eos] for t in tgt],
        )
    return prepared


def train_segmenters(cfg: TranslateDataConfig, train: ParallelText) -> tuple[Segmenter, Segmenter]:
    """The two sides' segmenters (one object for both with ``shared_vocab`` subwords)."""
    if cfg.tokens == "word":
        words = Words(cfg.lowercase)
        return words, words
    size, kind, lower = cfg.subword_vocab, cfg.subword_model, cfg.lowercase
    if cfg.shared_vocab:
        shared = Subwords.train([*train.sources, *train.targets], size, kind, lower)
        return shared, shared
    return Subwords.train(train.sources, size, kind, lower), Subwords.train(train.targets, size, kind, lower)


def build_vocabs(cfg: TranslateDataConfig, src: list[list[str]], tgt: list[list[str]]) -> tuple[Vocab, Vocab]:
    """Both sides' vocabularies from the training tokens (one shared with ``shared_vocab``). Words
    keep ``min_freq`` / ``max_vocab``; subwords keep every piece training uses."""
    words = cfg.tokens == "word"
    min_freq, max_size = (cfg.min_freq, cfg.max_vocab) if words else (1, 0)

    def vocab(lists) -> Vocab:
        return Vocab.from_token_lists(lists, SPECIALS, tokens="word", min_freq=min_freq, max_size=max_size)

    if cfg.shared_vocab:
        shared = vocab([*src, *tgt])
        return shared, shared
    return vocab(src), vocab(tgt)


def _cut(pairs: ParallelText, seg_s: Segmenter, seg_t: Segmenter) -> tuple[list[list[str]], list[list[str]]]:
    src, tgt = [seg_s.cut(s) for s in pairs.sources], [seg_t.cut(t) for t in pairs.targets]
    for side, lists in (("source", src), ("target", tgt)):
        for i, tokens in enumerate(lists):
            if not tokens:  # only the joiner mark, read as space: nothing the model could read or write
                raise DataError(f"data: {pairs.origins[i]}: the {side} sentence has no tokens; expected text")
    return src, tgt
