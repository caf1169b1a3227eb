"""The language-model task's spec: ``rnnkit train`` (char or word tokens, truncated BPTT over streams)."""

from __future__ import annotations

import dataclasses
import math
import sys
from pathlib import Path

import rnnkit
from rnnkit.config import is_real
from rnnkit.data import vocab_from_dict
from rnnkit.models import LanguageModel, LanguageModelConfig
from rnnkit.tasks.lm.budget import budget_layer, size_for, sized_line, text_chars
from rnnkit.tasks.lm.config import DataConfig
from rnnkit.tasks.lm.loaded import LoadedLanguageModel
from rnnkit.tasks.lm.prepare import PreparedCorpus, prepare_corpus
from rnnkit.tasks.lm.training import LanguageModelTask
from rnnkit.tasks.meta import RunMeta
from rnnkit.tasks.spec import Built, Finished, Log, TaskSpec

BUNDLED = Path(rnnkit.__file__).parent / "corpora" / "alice_in_wonderland.txt"

#: The demo's budget: `rnnkit train` with no data (and `make demo`) is the budget rule (tasks/lm/budget.py) at it.
DEMO_MINUTES = 3.0
#: What `rnnkit train` with no data trains on the bundled text: the model sized for DEMO_MINUTES, the budget recipe.
DEMO = budget_layer(DEMO_MINUTES, text_chars([str(BUNDLED)]))
DEMO["train"]["max_minutes"] = DEMO_MINUTES


class LanguageModelSpec(TaskSpec):
    name, title, verb = "lm", "language-model", "rnnkit train"
    model_cls, data_config_cls, model_config_cls = LanguageModel, DataConfig, LanguageModelConfig
    default_epochs = 20.0  # char-rnn's habit of a fixed number of epochs
    vocab_settings = ("tokens", "mode", "vocab_size", "min_freq")

    def demo(self) -> dict:
        return DEMO

    def base_layer(self, given: dict, sources: list[str], fine_tuning: bool = False) -> dict:
        """With a time budget (the demo's, or --max-minutes with data) and no fine-tuning: the model
        sized for the budget, its dropout for the budget and the text's size, and the budget recipe
        (``rnnkit.tasks.lm.budget``; sizes and settings given override it)."""
        minutes = given.get("train", {}).get("max_minutes")
        if not (is_real(minutes) and minutes > 0):  # none given, or a bad value TrainConfig.validate refuses
            minutes = None
        if not sources:  # the demo: the bundled text with DEMO_MINUTES, or the budget given
            layer = budget_layer(minutes or DEMO_MINUTES, text_chars([str(BUNDLED)]))
            layer["train"]["max_minutes"] = DEMO_MINUTES
            return layer
        if minutes and not fine_tuning:
            return budget_layer(minutes, text_chars(sources))
        return super().base_layer(given, sources, fine_tuning)

    def sizing_note(self, cfg: dict, given: dict, sources: list[str], fine_tuning: bool = False) -> str | None:
        model, minutes = given.get("model", {}), cfg["train"].max_minutes
        sized = {"num_layers", "hidden_size"} & {*model, *model.get("rnn", {})}
        if fine_tuning or sized or not minutes:
            return None
        rnn, chars = cfg["model"].rnn, text_chars(sources or [str(BUNDLED)])
        if (rnn.num_layers, rnn.hidden_size) != size_for(minutes, chars):  # e.g. a budget given only on --resume
            return None
        return sized_line(minutes, rnn.cell, chars)

    def check_model(self, cfg: dict) -> None:
        dataclasses.replace(cfg["model"], vocab_size=1).validate()  # fail before reading any data

    def run_name(self, data: list[str]) -> str:
        return Path(data[0]).stem if data else "alice"

    def default_sources(self) -> list[str]:
        return [str(BUNDLED)]

    def prepare(self, cfg: dict, sources: list[str], known: dict | None = None) -> PreparedCorpus:
        return prepare_corpus(cfg["data"], sources, known)

    def unknown_tokens(self, data: PreparedCorpus, split: str) -> tuple[int, int]:
        """Words read as <unk>; characters: none (a held-out character outside the vocabulary is
        dropped, and a text's characters rarely are: no warning)."""
        if data.vocab.kind != "word":
            return 0, 0
        return data.unknown.get(split, 0), len(data.splits[split])

    def unknown_advice(self, cfg: dict, data: PreparedCorpus) -> tuple[str, str]:
        data_cfg = cfg["data"]
        if data_cfg.vocab_size or data_cfg.min_freq > 1:
            return (
                "words unseen in training or cut by --vocab-size/--min-freq",
                "a larger --vocab-size (0: every word) or a lower --min-freq keeps more of them; --tokens char "
                "reads any text",
            )
        return (
            "words unseen in training",
            "the held-out text shares few words with the training text; give more training text, or use --tokens char",
        )

    def check_same_data(self, data: PreparedCorpus, stored: RunMeta, sources: list[str]) -> None:
        vocab = data.vocab
        if vocab.to_dict() != stored.vocab:
            old = vocab_from_dict(stored.vocab)
            diff = sorted(set(vocab.symbols) ^ set(old.symbols))[:5]
            raise ValueError(
                f"resume: the vocabulary built from {', '.join(sources)} ({len(vocab)} symbols) differs "
                f"from the checkpoint's ({len(old)} symbols; e.g. {diff}); expected the same training data"
            )

    def build(self, cfg: dict, data: PreparedCorpus, device) -> Built:
        data_cfg = cfg["data"]
        model_cfg = dataclasses.replace(cfg["model"], vocab_size=len(data.vocab)).validate()
        model = LanguageModel(model_cfg).to(device)
        val = data.splits["val"] if len(data.splits["val"]) >= 2 else None
        task = LanguageModelTask(
            data.splits["train"], val, data_cfg.batch_size, data_cfg.seq_len, device, vocab=data.vocab
        )  # the vocabulary: the throughput's unit and --sample-every's samples
        return Built(model, task, model_cfg)

    def description(self, cfg: dict, built: Built, data: PreparedCorpus) -> str:
        rnn, model = built.model_config.rnn, built.model
        n_params = sum(p.numel() for p in model.parameters())
        sizes = "/".join(f"{len(v):,}" for v in data.splits.values())
        unknown = sum(data.unknown.get(k, 0) for k in ("val", "test"))
        return (
            f"training a {rnn.num_layers}x{rnn.hidden_size} {rnn.cell.upper()} "
            f"({n_params / 1e6:.2f}M parameters, backend {model.rnn.resolved_backend()}) on "
            f"{sum(len(v) for v in data.splits.values()):,} {data.unit} ({len(data.vocab):,} symbols; "
            f"train/val/test {sizes}"
            + (f"; {unknown:,} held-out tokens outside the vocabulary read as <unk>" if unknown else "")
            + ")"
        )

    def best_text(self, best: float, cfg: dict, data: PreparedCorpus) -> str:
        word = data.vocab.kind == "word"
        ppl = f" (perplexity {math.exp(best):.2f})" if word and math.isfinite(best) else ""
        return f"best validation loss {best:.4f} nats/{'word' if word else 'char'}{ppl}"

    def report(self, finished: Finished, log: Log) -> None:
        """A sample from the best checkpoint (``options["sample_length"]`` tokens; 0: none)."""
        length = finished.options.get("sample_length", 0)
        if length <= 0:
            return
        from rnnkit.tasks.loading import load

        run_dir, data_cfg = finished.run_dir, finished.cfg["data"]
        lm = load(run_dir, device=finished.device)
        prime = "" if data_cfg.mode == "lines" else ("Alice " if finished.sources == [str(BUNDLED)] else "")
        if lm.word_level:
            prime = prime.strip()  # the generated words bring their own spaces
        log(f"--- a sample from {run_dir / 'best.safetensors'} (temperature 0.8) ---")
        lm.generate(  # streams the prime, then the sample
            prime,
            length=length,
            temperature=0.8,
            seed=finished.cfg["train"].seed,
            on_text=lambda s: (sys.stdout.write(s), sys.stdout.flush()),
        )
        sys.stdout.write("\n")

    def loaded(self, meta: dict, model, device) -> LoadedLanguageModel:
        return LoadedLanguageModel(model, vocab_from_dict(meta["vocab"]), meta, device)

    def evaluate(self, loaded: LoadedLanguageModel, request, out: Log) -> None:
        from rnnkit.tasks.lm.evaluate import evaluate_lm

        evaluate_lm(loaded, request, out)


LM = LanguageModelSpec()
