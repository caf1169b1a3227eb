"""The classification task's spec: ``rnnkit train classify`` (many-to-one; or regression to one number)."""

from __future__ import annotations

import dataclasses

from rnnkit.data import TokenVocab
from rnnkit.models import SequenceClassifier, SequenceClassifierConfig
from rnnkit.tasks.classify.config import ClassifyDataConfig
from rnnkit.tasks.classify.loaded import LoadedClassifier
from rnnkit.tasks.classify.prepare import PreparedClassification, prepare_classification
from rnnkit.tasks.classify.report import evaluate_classifier, report_classifier
from rnnkit.tasks.classify.training import ClassificationTask, balanced_weights
from rnnkit.tasks.spec import Built, Finished, Log, TaskSpec


class ClassificationSpec(TaskSpec):
    name, title, verb = "classify", "classify", "rnnkit train classify"
    model_cls, data_config_cls, model_config_cls = SequenceClassifier, ClassifyDataConfig, SequenceClassifierConfig
    base_train = {"eval_every": 0}  # evaluate (and checkpoint) after every epoch
    vocab_settings = ("tokens", "lowercase", "min_freq", "max_vocab")

    def default_monitor(self, cfg: dict) -> str:
        """The best checkpoint: the most accurate, or the lowest error for regression."""
        return "val_loss" if cfg["model"].task == "regress" else "val_acc"

    def prepare(self, cfg: dict, sources: list[str], known: dict | None = None) -> PreparedClassification:
        return prepare_classification(cfg["data"], sources, regress=cfg["model"].task == "regress", known=known)

    def unknown_tokens(self, data: PreparedClassification, split: str) -> tuple[int, int]:
        seqs, unk = data.splits[split][0], data.vocab.unk_id
        return sum(ids.count(unk) for ids in seqs), sum(len(ids) for ids in seqs)

    def unknown_advice(self, cfg: dict, data: PreparedClassification) -> tuple[str, str]:
        """Many unseen words: usually short strings (names) read as words, one token each."""
        data_cfg = cfg["data"]
        if data_cfg.tokens == "char":
            return "characters unseen in training", "check that the held-out data has the training data's script"
        if data_cfg.min_freq > 1 or data_cfg.max_vocab:
            return (
                "words unseen in training or cut by --min-freq/--max-vocab",
                "a lower --min-freq or a larger --max-vocab keeps more words; for names or short strings use "
                "--tokens char",
            )
        return "words unseen in training", "for names or short strings use --tokens char"

    def build(self, cfg: dict, data: PreparedClassification, device) -> Built:
        data_cfg, regress = cfg["data"], cfg["model"].task == "regress"
        model_cfg = dataclasses.replace(
            cfg["model"], vocab_size=len(data.vocab), input_size=0, num_classes=max(2, len(data.labels))
        ).validate()
        model = SequenceClassifier(model_cfg).to(device)
        seqs, targets = data.splits["train"]
        weights = None
        if data_cfg.class_weights == "balanced" and not regress:
            weights = balanced_weights(targets, len(data.labels))
        val = data.splits["val"] if len(data.splits["val"][0]) else None
        task = ClassificationTask(
            (seqs, targets),
            val,
            data_cfg.batch_size,
            device,
            seed=cfg["train"].seed,
            bucket=data_cfg.bucket,
            class_weights=weights,
            regress=regress,
            num_classes=model_cfg.num_classes,
        )
        return Built(model, task, model_cfg)

    def extras(self, data: PreparedClassification) -> dict:
        return {"labels": data.labels}

    def description(self, cfg: dict, built: Built, data: PreparedClassification) -> str:
        model_cfg, rnn = built.model_config, built.model_config.rnn
        sizes = "/".join(f"{len(data.examples[s]):,}" for s in ("train", "val", "test"))
        n_params = sum(p.numel() for p in built.model.parameters())
        what = "regressor" if model_cfg.task == "regress" else f"classifier over {len(data.labels)} classes"
        tokens = cfg["data"].tokens
        return (
            f"training a {rnn.num_layers}x{rnn.hidden_size} {'bidirectional ' * rnn.bidirectional}"
            f"{rnn.cell.upper()} {what} ({n_params / 1e6:.2f}M parameters, {model_cfg.pooling} pooling) on "
            f"{tokens} tokens ({len(data.vocab):,} in the vocabulary); train/val/test {sizes} examples"
        )

    def report(self, finished: Finished, log: Log) -> None:
        """The best checkpoint on the test split (else val): metrics and a confusion heatmap."""
        examples, run_dir = finished.data.examples, finished.run_dir
        split = "test" if len(examples["test"]) else "val"
        if len(examples[split]):
            report_classifier(
                run_dir, examples[split], f"the {split} split", log, png=run_dir / f"confusion_{split}.png"
            )

    def loaded(self, meta: dict, model, device) -> LoadedClassifier:
        return LoadedClassifier(model, TokenVocab.from_dict(meta["vocab"]), list(meta["labels"]), meta, device)

    def evaluate(self, loaded: LoadedClassifier, request, out: Log) -> None:
        evaluate_classifier(loaded, request, out)


CLASSIFY = ClassificationSpec()
