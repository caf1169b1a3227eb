"""``rnnkit train``: train a character- or word-level language model on any text (default: the bundled Alice).

rnnkit train                                  # the demo: Alice in Wonderland, ~3 minutes on CPU
rnnkit train input.txt --hidden-size 512 --max-minutes 10
rnnkit train --config run.toml corpus/ --run-dir runs/mine
rnnkit train --resume runs/mine --max-steps 20000
rnnkit train ptb.train.txt.gz --valid ptb.valid.txt --test ptb.test.txt --preset ptb-small

Configuration layers, each overriding the one before: defaults <- --preset <- --config <- flags.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import sys
import time
from pathlib import Path

import rnnkit
from rnnkit.checkpoint import read_meta
from rnnkit.cli.flags import add_recurrent_flags, add_run_flags, add_training_flags
from rnnkit.cli.options import SECTIONS, add, flag_values, fractions, override, preset_names, read_preset, read_toml
from rnnkit.data import DataConfig, vocab_from_dict
from rnnkit.data.prepare import prepare_corpus
from rnnkit.models import LanguageModel, LanguageModelConfig, LanguageModelTask
from rnnkit.train import TrainConfig, Trainer, resolve_device, seed_everything

BUNDLED = Path(rnnkit.__file__).parent / "corpora" / "alice_in_wonderland.txt"

#: The default model: what `rnnkit train` with no data (and `make demo`) trains on the bundled text.
DEMO = {
    "data": {"batch_size": 32, "seq_len": 100},
    "model": {"hidden_size": 256, "num_layers": 2, "embedding_size": 64, "dropout": 0.2},
    "train": {"lr": 3e-3, "max_minutes": 3.0, "eval_every": 100, "lr_schedule": "plateau", "patience": 3},
}
#: With user data and no budget at all: char-rnn's habit of a fixed number of epochs.
DEFAULT_EPOCHS = 20.0


def add_parser(sub) -> None:
    p = sub.add_parser(
        "train",
        help="train a language model on text; `train classify` / `train tag` train classifiers and taggers",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "data",
        nargs="*",
        help="text file(s) or directories of .txt files (default: the bundled Alice's Adventures in Wonderland); "
        "'rnnkit train classify ...' and 'rnnkit train tag ...' train the other tasks (see their --help)",
    )
    add_run_flags(p)
    p.add_argument(
        "--preset",
        metavar="NAME",
        help=f"a named configuration shipped with rnnkit ({', '.join(preset_names())}); --config and flags override it",
    )
    p.add_argument(
        "--sample-length",
        type=int,
        default=300,
        metavar="N",
        help="tokens (characters or words) to sample from the best model at the end (0: none; default 300)",
    )

    d = p.add_argument_group("data")
    add(d, "--encoding", dest="data.encoding", help="text encoding (default utf-8)")
    add(
        d,
        "--errors",
        dest="data.errors",
        choices=["strict", "replace", "ignore"],
        help="undecodable bytes: strict (fail, naming the byte offset), replace or ignore",
    )
    add(
        d,
        "--line-mode",
        dest="data.mode",
        action="store_const",
        const="lines",
        help="one item per line (e.g. names): train with <bos>/<eos> per line; sampling stops at <eos>",
    )
    add(
        d,
        "--tokens",
        dest="data.tokens",
        choices=["char", "word"],
        help="char (default): every character is a token; word: whitespace-separated words, <eos> per line, <unk>",
    )
    add(
        d,
        "--vocab-size",
        dest="data.vocab_size",
        type=int,
        help="word tokens: keep the most frequent words, <eos> and <unk> included (0: all; default 0)",
    )
    add(d, "--min-freq", dest="data.min_freq", type=int, help="word tokens: rarer words become <unk> (default 1)")
    add(
        d,
        "--valid",
        dest="data.valid",
        metavar="FILE",
        help="a validation file (e.g. ptb.valid.txt); with --valid/--test the data is all training text",
    )
    add(d, "--test", dest="data.test", metavar="FILE", help="a test file (e.g. ptb.test.txt), for rnnkit eval")
    add(
        d,
        "--split",
        dest="data.split",
        type=fractions,
        metavar="TRAIN,VAL,TEST",
        help="contiguous split fractions (default 0.9,0.05,0.05; ignored with --valid/--test)",
    )
    add(d, "--batch-size", dest="data.batch_size", type=int, help="B: parallel streams per batch")
    add(d, "--seq-len", dest="data.seq_len", type=int, help="T: steps per window (truncated-BPTT length)")

    m = p.add_argument_group("model")
    add_recurrent_flags(m, "embedding size (0: one-hot inputs)")
    add(
        m,
        "--tie-weights",
        dest="model.tie_weights",
        action="store_const",
        const=True,
        help="share embedding and output weights (needs embedding size = hidden size)",
    )
    add(
        m,
        "--init-scale",
        dest="model.init_scale",
        type=float,
        help="init every weight ~ U(-s, s) (0: per-layer default)",
    )

    add_training_flags(p)
    p.set_defaults(run=run)


def compose(args, base: dict | None = None, defaults: dict | None = None) -> dict:
    """{section: dataclass} from defaults <- (demo or base) <- --preset <- --config <- flags.

    ``defaults``: {section: dataclass instance} (default: the language model's)."""
    configs = dict(defaults or {"data": DataConfig(), "model": LanguageModelConfig(), "train": TrainConfig()})
    layers = [base or {}]
    if getattr(args, "preset", None):
        layers.append(read_preset(args.preset))
    if args.config:
        layers.append(read_toml(args.config))
    layers.append(flag_values(args))
    for layer in layers:
        for section in SECTIONS:
            if layer.get(section):
                where = f"[{section}]"
                configs[section] = override(configs[section], layer[section], where)
    return configs


def run(args) -> int:
    if args.resume:
        return _resume(args)
    base = DEMO if not args.data else {}
    given = {
        **(read_preset(args.preset).get("train", {}) if args.preset else {}),
        **(read_toml(args.config).get("train", {}) if args.config else {}),
        **flag_values(args)["train"],
    }
    if args.data and not any(given.get(k) for k in ("max_steps", "max_epochs", "max_minutes")):
        base = {"train": {"max_epochs": DEFAULT_EPOCHS}}
    cfg = compose(args, base)
    cfg["data"].validate()
    cfg["train"].validate()
    dataclasses.replace(cfg["model"], vocab_size=1).validate()  # fail before reading any data
    held_out = {k: str(Path(v).resolve()) for k in ("valid", "test") if (v := getattr(cfg["data"], k))}
    cfg["data"] = dataclasses.replace(cfg["data"], **held_out)
    sources = [str(Path(s).resolve()) for s in args.data] or [str(BUNDLED)]
    return _train(args, cfg, sources, new_run_dir(args.run_dir, _name(args.data)), resume=False)


def new_run_dir(flag: str | None, name: str) -> Path:
    """The directory of a new run: --run-dir, else runs/<name>-<time>. One holding a checkpoint is
    refused (training would overwrite it; --resume continues it)."""
    run_dir = Path(flag) if flag else Path("runs") / f"{name}-{time.strftime('%Y%m%d-%H%M%S')}"
    if (run_dir / "latest.safetensors").exists():
        raise ValueError(
            f"run directory: {run_dir} already holds a checkpoint; expected a new directory "
            f"(--run-dir) or --resume {run_dir}"
        )
    return run_dir


def _resume(args) -> int:
    run_dir = Path(args.resume)
    meta = read_meta(run_dir / "latest.safetensors")
    flags = flag_values(args)
    changed = [f"{s}.{k}" for s in ("data", "model") for k in flags[s]]
    if args.data or args.config or args.preset or changed:
        what = ", ".join(changed) or ("data" if args.data else ("--config" if args.config else "--preset"))
        raise ValueError(
            f"resume: expected only training options with --resume (the data and model are fixed "
            f"by the checkpoint), got {what}"
        )
    stored = meta["config"]
    cfg = {
        "data": override(DataConfig(), stored["data"], "checkpoint [data]"),
        "model": override(LanguageModelConfig(), stored["model"], "checkpoint [model]"),
        "train": override(override(TrainConfig(), stored["train"], "checkpoint [train]"), flags["train"], "flags"),
    }
    cfg["train"].validate()
    return _train(args, cfg, stored["source"], run_dir, resume=True, stored_vocab=meta["vocab"])


def _train(args, cfg: dict, sources: list[str], run_dir: Path, resume: bool, stored_vocab: dict | None = None) -> int:
    data_cfg, train_cfg = cfg["data"], cfg["train"]
    corpus = prepare_corpus(data_cfg, sources)
    vocab = corpus.vocab
    if stored_vocab is not None and vocab.to_dict() != stored_vocab:
        old = vocab_from_dict(stored_vocab)
        diff = sorted(set(vocab.symbols) ^ set(old.symbols))[:5]
        raise ValueError(
            f"resume: the vocabulary built from {', '.join(sources)} ({len(vocab)} symbols) differs "
            f"from the checkpoint's ({len(old)} symbols; e.g. {diff}); expected the same training data"
        )
    device = resolve_device(train_cfg.device)
    seed_everything(train_cfg.seed)
    model_cfg = dataclasses.replace(cfg["model"], vocab_size=len(vocab)).validate()
    model = LanguageModel(model_cfg).to(device)
    val = corpus.splits["val"] if len(corpus.splits["val"]) >= 2 else None
    task = LanguageModelTask(corpus.splits["train"], val, data_cfg.batch_size, data_cfg.seq_len, device)
    resolved = {
        "data": dataclasses.asdict(data_cfg),
        "model": dataclasses.asdict(model_cfg),
        "train": dataclasses.asdict(train_cfg),
        "source": sources,
    }
    meta = {
        "model": {"kind": LanguageModel.kind, "config": dataclasses.asdict(model_cfg)},
        "vocab": vocab.to_dict(),
        "config": resolved,
    }

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    trainer = Trainer(model, task, train_cfg, run_dir, meta, log=log, progress=not args.no_progress)
    if resume:
        trainer.resume()
        log(f"resuming {run_dir} at step {trainer.step} (epoch {trainer.epoch})")
    else:
        n_params = sum(p.numel() for p in model.parameters())
        sizes = "/".join(f"{len(v):,}" for v in corpus.splits.values())
        unknown = sum(corpus.unknown.get(k, 0) for k in ("val", "test"))
        log(
            f"training a {model_cfg.num_layers}x{model_cfg.hidden_size} {model_cfg.cell.upper()} "
            f"({n_params / 1e6:.2f}M parameters, backend {model.rnn.resolved_backend()}) on "
            f"{sum(len(v) for v in corpus.splits.values()):,} {corpus.unit} ({len(vocab):,} symbols; "
            f"train/val/test {sizes}"
            + (f"; {unknown:,} held-out tokens outside the vocabulary read as <unk>" if unknown else "")
            + f") on {device}; run directory {run_dir}"
        )
    summary = trainer.fit()
    best = summary["best_val_loss"]
    per = "word" if vocab.kind == "word" else "char"
    ppl = f" (perplexity {math.exp(best):.2f})" if vocab.kind == "word" and math.isfinite(best) else ""
    log(
        f"stopped: {summary['stopped']} at step {summary['step']}; best validation loss "
        f"{best:.4f} nats/{per}{ppl}; checkpoints in {run_dir}"
    )
    if args.sample_length > 0:
        from rnnkit.infer import load

        lm = load(run_dir, device=device)
        prime = "" if data_cfg.mode == "lines" else ("Alice " if sources == [str(BUNDLED)] else "")
        if vocab.kind == "word":
            prime = prime.strip()  # the generated words bring their own spaces
        log(f"--- a sample from {run_dir / 'best.safetensors'} (temperature 0.8) ---")
        sys.stdout.write(prime)
        lm.generate(
            prime,
            length=args.sample_length,
            temperature=0.8,
            seed=train_cfg.seed,
            on_text=lambda s: (sys.stdout.write(s), sys.stdout.flush()),
        )
        sys.stdout.write("\n")
    return 0


def _name(data: list[str]) -> str:
    return Path(data[0]).stem if data else "alice"
