"""``rnnkit train tag``: train a sequence tagger (synced many-to-many), e.g. part-of-speech tags.

rnnkit train tag en_ewt-ud-train.conllu.gz --valid en_ewt-ud-dev.conllu --test en_ewt-ud-test.conllu
rnnkit train tag train.conllu --column xpos --char-features
rnnkit train tag tagged.txt --split 0.8,0.1,0.1      # token<TAB>tag lines, blank line between sentences

Data: CoNLL-U (UPOS by default, --column xpos; comments, multi-word ranges and empty nodes are
skipped) or ``token<TAB>tag`` columns. Model: word embedding (+ a character BiRNN per word with
--char-features) -> bidirectional stacked RNN -> per-token linear; the loss counts real tokens only.
At the end the best checkpoint is evaluated on the test split (token accuracy, per-tag P/R/F1,
accuracy on words unseen in training).
"""

from __future__ import annotations

import argparse
import dataclasses

from rnnkit.cli.flags import add_labelled_data_flags, add_recurrent_flags, add_run_flags, add_training_flags
from rnnkit.cli.options import add
from rnnkit.cli.task_run import Built, TaskSpec, resolved, run_task
from rnnkit.data.prepare_tasks import encode_sentences, prepare_tagging
from rnnkit.data.task_config import TagDataConfig
from rnnkit.models import EncodedSentences, SequenceTagger, SequenceTaggerConfig, TaggingTask, word_dropout_probs
from rnnkit.train import TrainConfig


def add_parser(sub) -> None:
    p = sub.add_parser(
        "train-tag",
        prog="rnnkit train tag",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("data", nargs="*", help="CoNLL-U or token<TAB>tag file(s) to train on")
    add_run_flags(p)
    d = p.add_argument_group("data")
    add_labelled_data_flags(d, "sentences")
    add(d, "--column", dest="data.column", choices=["upos", "xpos"], help="CoNLL-U tag column (default upos)")
    add(d, "--format", dest="data.format", choices=["auto", "conllu", "columns"], help="default: auto")
    add(
        d,
        "--word-dropout",
        dest="data.word_dropout",
        type=float,
        help="alpha: in training a word seen n times becomes <unk> with probability alpha/(alpha+n) (default 0)",
    )
    m = p.add_argument_group("model")
    add_recurrent_flags(m, "word embedding size (default 100)")
    add(
        m,
        "--char-features",
        dest="model.char_features",
        action="store_const",
        const=True,
        help="add a character BiRNN's reading of each word to its embedding",
    )
    add(m, "--char-embedding-size", dest="model.char_embedding_size", type=int, help="default 32")
    add(m, "--char-hidden-size", dest="model.char_hidden_size", type=int, help="per direction, default 64")
    add(
        m,
        "--unidirectional",
        dest="model.bidirectional",
        action="store_const",
        const=False,
        help="left-to-right only (default: bidirectional)",
    )
    add_training_flags(p)
    p.set_defaults(run=lambda args: run_task(args, SPEC))


def encode(data, split: str, with_chars: bool) -> EncodedSentences:
    words, chars, tags = encode_sentences(
        data.sentences[split], data.vocab, data.chars if with_chars else None, data.tags
    )
    return EncodedSentences(words, chars, tags)


def build(cfg: dict, sources: list[str], device) -> Built:
    data_cfg = cfg["data"]
    data = prepare_tagging(data_cfg, sources)
    with_chars = cfg["model"].char_features
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
    meta = {
        "task": "tag",
        "model": {"kind": SequenceTagger.kind, "config": dataclasses.asdict(model_cfg)},
        "vocab": data.vocab.to_dict(),
        "chars": data.chars.to_dict(),
        "tags": data.tags,
        "config": resolved(cfg, model_cfg, sources, "tag"),
    }
    sizes = "/".join(f"{len(data.sentences[s]):,}" for s in ("train", "val", "test"))
    n_params = sum(p.numel() for p in model.parameters())
    description = (
        f"training a {model_cfg.num_layers}x{model_cfg.hidden_size} {'bidirectional ' * model_cfg.bidirectional}"
        f"{model_cfg.cell.upper()} tagger over {len(data.tags)} tags ({n_params / 1e6:.2f}M parameters; words"
        f"{' + characters' if with_chars else ' only'}; {len(data.vocab):,} words in the vocabulary); "
        f"train/val/test {sizes} sentences"
    )

    def report(run_dir, log) -> None:
        from rnnkit.cli.label_eval import report_tagger

        split = "test" if len(data.sentences["test"]) else "val"
        if len(data.sentences[split]):
            report_tagger(run_dir, data.sentences[split], f"the {split} split", log)

    return Built(model, task, meta, description, report)


def defaults() -> dict:
    return {"data": TagDataConfig(), "model": SequenceTaggerConfig(), "train": TrainConfig()}


SPEC = TaskSpec("tag", defaults, build)
