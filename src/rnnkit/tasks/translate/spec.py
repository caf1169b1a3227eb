"""The translation task's spec: ``rnnkit train translate`` (many-to-many, unsynced: encoder-decoder).

The run's metadata stores the target vocabulary as its ``vocab`` (the output side, as for every
task) and, as extras, ``source_vocab`` and ``segmenters`` ({"source", "target"}: the word rule's
settings, or the SentencePiece model itself), so ``rnnkit translate`` / ``eval`` / ``rnnkit.load``
need only the checkpoint.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from rnnkit.data import Vocab
from rnnkit.data.segment import segmenter_from_dict
from rnnkit.models import Translator, TranslatorConfig
from rnnkit.tasks.spec import Built, Finished, Log, TaskSpec
from rnnkit.tasks.translate.config import TranslateDataConfig
from rnnkit.tasks.translate.loaded import LoadedTranslator
from rnnkit.tasks.translate.prepare import PreparedTranslation, prepare_translation
from rnnkit.tasks.translate.training import TranslationTask


class TranslationSpec(TaskSpec):
    name, title, verb = "translate", "translate", "rnnkit train translate"
    model_cls, data_config_cls, model_config_cls = Translator, TranslateDataConfig, TranslatorConfig
    base_train = {"eval_every": 0}  # evaluate (and checkpoint) after every epoch
    vocab_settings = ("tokens", "lowercase", "min_freq", "max_vocab", "subword_vocab", "subword_model", "shared_vocab")
    tunable_model = (
        "dropout",
        "label_smoothing",
        "scheduled_sampling",
        "encoder.backend",
        "decoder.backend",
    )  # training-time settings: they change neither the weights' shapes nor their meaning
    unknown_threshold = 0.10

    def default_monitor(self, cfg: dict) -> str:
        """The best checkpoint: the highest validation BLEU (greedy, ``bleu_sentences``), else the lowest loss."""
        return "val_bleu" if cfg["data"].bleu_sentences else "val_loss"

    def prepare(self, cfg: dict, sources: list[str], known: dict | None = None) -> PreparedTranslation:
        return prepare_translation(cfg["data"], sources, known)

    def run_name(self, data: list[str]) -> str:
        stem = Path(data[0]).name.split(".")[0] if data else "pairs"  # train.de.gz -> train
        return f"{stem}-{self.name}"

    def unknown_tokens(self, data: PreparedTranslation, split: str) -> tuple[int, int]:
        seqs, unk = data.splits[split][0], data.source_vocab.unk_id
        return sum(ids.count(unk) for ids in seqs), sum(len(ids) for ids in seqs)

    def unknown_advice(self, cfg: dict, data: PreparedTranslation) -> tuple[str, str]:
        if cfg["data"].tokens == "subword":
            return "source characters unseen in training", "check that the held-out data has the training data's script"
        return (
            "source words unseen in training or cut by --min-freq/--max-vocab",
            "--tokens subword splits rare words into known pieces",
        )

    def build(self, cfg: dict, data: PreparedTranslation, device) -> Built:
        data_cfg, tv = cfg["data"], data.target_vocab
        model_cfg = dataclasses.replace(
            cfg["model"],
            source_vocab_size=len(data.source_vocab),
            target_vocab_size=len(tv),
            pad_id=tv.pad_id,
            bos_id=tv.bos_id,
            eos_id=tv.eos_id,
        ).validate()
        model = Translator(model_cfg).to(device)
        val = data.splits["val"] if data.splits["val"][0] else None
        references = list(data.pairs["val"].targets)
        if data_cfg.lowercase:
            references = [r.lower() for r in references]
        task = TranslationTask(
            data.splits["train"],
            val,
            data_cfg.batch_size,
            device,
            seed=cfg["train"].seed,
            bucket=data_cfg.bucket,
            target_vocab_size=len(tv),
            references=references,
            detokenize=lambda ids: data.target_segmenter.join(tv.decode(list(ids))),
            bleu_sentences=data_cfg.bleu_sentences,
            bos=tv.bos_id,
            eos=tv.eos_id,
        )
        return Built(model, task, model_cfg)

    def extras(self, data: PreparedTranslation) -> dict:
        return {
            "source_vocab": data.source_vocab.to_dict(),
            "segmenters": {"source": data.source_segmenter.to_dict(), "target": data.target_segmenter.to_dict()},
        }

    def check_same_data(self, data: PreparedTranslation, stored, sources: list[str]) -> None:
        super().check_same_data(data, stored, sources)
        if data.source_vocab.to_dict() != stored.extras.get("source_vocab"):
            raise ValueError(
                f"resume: the source vocabulary built from {', '.join(sources)} differs from the checkpoint's; "
                "expected the same training data"
            )

    def description(self, cfg: dict, built: Built, data: PreparedTranslation) -> str:
        m = built.model_config
        enc, dec = m.encoder, m.decoder
        sizes = "/".join(f"{len(data.pairs[s]):,}" for s in ("train", "val", "test"))
        n_params = sum(p.numel() for p in built.model.parameters())
        dropped = data.dropped
        notes = []
        if dropped.get("empty"):
            notes.append(f"{dropped['empty']:,} with an empty side dropped")
        if dropped.get("long"):
            notes.append(f"{dropped['long']:,} longer than {cfg['data'].max_length} tokens dropped")
        return (
            f"training a {enc.num_layers}x{enc.hidden_size} {'bidirectional ' * enc.bidirectional}"
            f"{enc.cell.upper()} encoder and {dec.num_layers}x{dec.hidden_size} {dec.cell.upper()} decoder with "
            f"{m.attention} attention ({n_params / 1e6:.2f}M parameters) on {cfg['data'].tokens} tokens "
            f"({len(data.source_vocab):,} source, {len(data.target_vocab):,} target); train/val/test {sizes} pairs"
            + (f" ({'; '.join(notes)})" if notes else "")
        )

    def best_text(self, best: float, cfg: dict, data) -> str:
        monitor = cfg["train"].monitor
        return f"best {monitor} {best:.2f}" if monitor == "val_bleu" else f"best {monitor} {best:.4f}"

    def report(self, finished: Finished, log: Log) -> None:
        """The best checkpoint on the test split (else val): BLEU, chrF and perplexity, greedy."""
        from rnnkit.tasks.translate.report import report_translator

        pairs = finished.data.pairs
        split = "test" if len(pairs["test"]) else "val"
        if len(pairs[split]):
            report_translator(finished.run_dir, finished.data, split, log)

    def loaded(self, meta: dict, model, device) -> LoadedTranslator:
        segs = meta["segmenters"]
        return LoadedTranslator(
            model,
            Vocab.from_dict(meta["source_vocab"]),
            Vocab.from_dict(meta["vocab"]),
            segmenter_from_dict(segs["source"]),
            segmenter_from_dict(segs["target"]),
            meta,
            device,
        )

    def evaluate(self, loaded: LoadedTranslator, request, out: Log) -> None:
        from rnnkit.tasks.translate.report import evaluate_translator

        evaluate_translator(loaded, request, out)


TRANSLATE = TranslationSpec()
