"""The tagging task's spec: ``rnnkit train tag`` (synced many-to-many: one tag per token)."""

from __future__ import annotations

import dataclasses

from rnnkit.data import TokenVocab
from rnnkit.models import SequenceTagger, SequenceTaggerConfig
from rnnkit.tasks.spec import Built, Finished, Log, TaskSpec
from rnnkit.tasks.tag.config import TagDataConfig
from rnnkit.tasks.tag.loaded import LoadedTagger
from rnnkit.tasks.tag.prepare import PreparedTagging, encode_sentences, prepare_tagging
from rnnkit.tasks.tag.report import evaluate_tagger, report_tagger
from rnnkit.tasks.tag.training import EncodedSentences, TaggingTask, word_dropout_probs


def encode(data: PreparedTagging, split: str, with_chars: bool) -> EncodedSentences:
    words, chars, tags = encode_sentences(
        data.sentences[split], data.vocab, data.chars if with_chars else None, data.tags
    )
    return EncodedSentences(words, chars, tags)


class TaggingSpec(TaskSpec):
    name, title, verb = "tag", "tag", "rnnkit train tag"
    model_cls, data_config_cls, model_config_cls = SequenceTagger, TagDataConfig, SequenceTaggerConfig
    base_train = {"eval_every": 0}  # evaluate (and checkpoint) after every epoch
    vocab_settings = ("lowercase", "min_freq", "max_vocab", "column")
    #: Unseen words are normal for a tagger (a treebank's dev split has some 5-15% with a
    #: vocabulary of every training word; word dropout and character features handle them), so
    #: it warns only when far more are: text unlike the training text, or too high a --min-freq.
    unknown_threshold = 0.25

    def default_monitor(self, cfg: dict) -> str:
        return "val_acc"  # the best checkpoint: the most accurate

    def prepare(self, cfg: dict, sources: list[str], known: dict | None = None) -> PreparedTagging:
        return prepare_tagging(cfg["data"], sources, known)

    def unknown_tokens(self, data: PreparedTagging, split: str) -> tuple[int, int]:
        words, has = data.sentences[split].tokens, data.vocab.has
        return sum(not has(w) for s in words for w in s), sum(len(s) for s in words)

    def unknown_advice(self, cfg: dict, data: PreparedTagging) -> tuple[str, str]:
        data_cfg = cfg["data"]
        cut = " or cut by --min-freq/--max-vocab" if data_cfg.min_freq > 1 or data_cfg.max_vocab else ""
        return (
            f"words unseen in training{cut}",
            "a tagger copes with some (--word-dropout, --char-features), but this many suggests held-out text "
            "unlike the training text" + (", or a lower --min-freq" if data_cfg.min_freq > 1 else ""),
        )

    def build(self, cfg: dict, data: PreparedTagging, device) -> Built:
        data_cfg, with_chars = cfg["data"], cfg["model"].char_features
        model_cfg = dataclasses.replace(
            cfg["model"],
            vocab_size=len(data.vocab),
            num_tags=len(data.tags),
            char_vocab_size=len(data.chars) if with_chars else 0,
        ).validate()
        model = SequenceTagger(model_cfg).to(device)
        train = encode(data, "train", with_chars)
        val = encode(data, "val", with_chars) if len(data.sentences["val"]) else None
        task = TaggingTask(
            train,
            val,
            data_cfg.batch_size,
            device,
            num_tags=len(data.tags),
            seed=cfg["train"].seed,
            bucket=data_cfg.bucket,
            unk_probs=word_dropout_probs(train.words, len(data.vocab), data_cfg.word_dropout)
            if data_cfg.word_dropout
            else None,
        )
        return Built(model, task, model_cfg)

    def extras(self, data: PreparedTagging) -> dict:
        return {"chars": data.chars.to_dict(), "tags": data.tags}

    def description(self, cfg: dict, built: Built, data: PreparedTagging) -> str:
        model_cfg, rnn = built.model_config, built.model_config.rnn
        sizes = "/".join(f"{len(data.sentences[s]):,}" for s in ("train", "val", "test"))
        n_params = sum(p.numel() for p in built.model.parameters())
        return (
            f"training a {rnn.num_layers}x{rnn.hidden_size} {'bidirectional ' * rnn.bidirectional}"
            f"{rnn.cell.upper()} tagger over {len(data.tags)} tags ({n_params / 1e6:.2f}M parameters; words"
            f"{' + characters' if model_cfg.char_features else ' only'}; {len(data.vocab):,} words in the vocabulary); "
            f"train/val/test {sizes} sentences"
        )

    def report(self, finished: Finished, log: Log) -> None:
        """The best checkpoint on the test split (else val): token accuracy, per-tag F1, unseen words."""
        sentences = finished.data.sentences
        split = "test" if len(sentences["test"]) else "val"
        if len(sentences[split]):
            report_tagger(finished.run_dir, sentences[split], f"the {split} split", log)

    def loaded(self, meta: dict, model, device) -> LoadedTagger:
        chars = TokenVocab.from_dict(meta["chars"]) if model.uses_chars else None
        return LoadedTagger(model, TokenVocab.from_dict(meta["vocab"]), chars, list(meta["tags"]), meta, device)

    def evaluate(self, loaded: LoadedTagger, request, out: Log) -> None:
        evaluate_tagger(loaded, request, out)


TAG = TaggingSpec()
