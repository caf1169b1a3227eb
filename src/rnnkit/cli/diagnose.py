"""``rnnkit diagnose``: how far back does the gradient reach? Gradient flow through time, as a plot.

rnnkit diagnose runs/alice                       # the stored validation text, windows of 50 steps
rnnkit diagnose runs/alice --data other.txt --steps 100
rnnkit diagnose runs/memory/adding-lstm-T100.safetensors     # a model saved by `rnnkit bench memory --save`
rnnkit diagnose --compare rnn,lstm,gru           # fresh and briefly trained models of each cell, one plot

Writes gradient_flow.png (||dL_T/dh_t|| on a log scale against the distance T - t, one line per
layer; the step Jacobian norms ||dh_t/dh_{t-1}|| below) and gradient_flow.csv, and prints one line
per model, e.g. "lstm: gradient falls by 10^1.5 over 49 steps (...)". L_T is the loss at the last
step; the mean is over a batch of windows evenly spread over the text.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

from rnnkit.cells import CELL_TYPES
from rnnkit.checkpoint import load_checkpoint, read_meta
from rnnkit.config import override
from rnnkit.data import read_text
from rnnkit.diagnostics.compare import compare_cells, lm_batch
from rnnkit.diagnostics.gradient_flow import cell_colour, gradient_flow, plot_gradient_flow, write_csv
from rnnkit.diagnostics.memory_tasks import MemoryTask
from rnnkit.infer.loading import resolve_checkpoint
from rnnkit.models import LanguageModelConfig, build_model
from rnnkit.tasks import DataConfig, load
from rnnkit.tasks.known import inherited
from rnnkit.tasks.lm.prepare import prepare_corpus
from rnnkit.tasks.lm.spec import BUNDLED
from rnnkit.train import TrainConfig

CELLS = CELL_TYPES  # the registered cells (rnnkit.cells.registry)


def add_parser(sub) -> None:
    p = sub.add_parser(
        "diagnose",
        help="gradient flow through time: plot, CSV and a one-line summary",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("checkpoint", nargs="?", help="a .safetensors checkpoint or a run directory (uses its best)")
    p.add_argument(
        "--compare",
        metavar="CELLS",
        help="instead of a checkpoint: fresh and briefly trained language models of these cells, e.g. rnn,lstm,gru",
    )
    p.add_argument(
        "--data",
        metavar="FILE",
        help="text to measure on (default: the checkpoint's stored validation text; with --compare, also the "
        "training text, default the bundled Alice in Wonderland)",
    )
    p.add_argument("--steps", type=int, default=50, help="T: steps per window, the distance measured (default 50)")
    p.add_argument("--batch-size", type=int, default=16, help="windows averaged over (default 16)")
    p.add_argument(
        "--method",
        choices=["auto", "autograd", "fused"],
        default="auto",
        help="how dL_T/dh_t is computed: the fused backend's own backward pass, or autograd on the cell "
        "equations (auto: fused where the model uses it)",
    )
    p.add_argument(
        "--jacobian-examples",
        type=int,
        default=8,
        metavar="N",
        help="windows whose step Jacobians are measured (0: none; default 8)",
    )
    p.add_argument(
        "--unknown",
        choices=["skip", "error", "unk"],
        default=None,
        help="symbols of --data the vocabulary lacks: skip (default for characters), error, or unk (words)",
    )
    p.add_argument("--out", metavar="DIR", help="where the PNG and CSV go (default: the checkpoint's directory)")
    c = p.add_argument_group("--compare")
    c.add_argument("--hidden-size", type=int, default=128, help="H of each compared model (default 128)")
    c.add_argument("--num-layers", type=int, default=1, help="layers of each compared model (default 1)")
    c.add_argument("--train-steps", type=int, default=200, help="brief training per cell (0: untrained only)")
    c.add_argument("--seed", type=int, default=1234, help="random seed (the same for every cell)")
    p.set_defaults(run=run)


def run(args) -> int:
    if args.steps < 2 or args.batch_size < 1 or args.jacobian_examples < 0:
        raise ValueError(
            f"diagnose: expected --steps >= 2, --batch-size >= 1 and --jacobian-examples >= 0, got "
            f"{args.steps}, {args.batch_size} and {args.jacobian_examples}"
        )
    if args.compare:
        if args.checkpoint:
            raise ValueError(f"diagnose: expected a checkpoint or --compare, got both ({args.checkpoint!r})")
        return _compare(args)
    if not args.checkpoint:
        raise ValueError("diagnose: expected a checkpoint (or --compare CELLS), got neither")
    path = resolve_checkpoint(args.checkpoint)
    meta = read_meta(path)
    if not (isinstance(meta, dict) and isinstance(meta.get("memory_task"), dict)):  # not a memory-benchmark model:
        # a language model, through rnnkit.load's checks of an untrusted checkpoint
        lm = load(path, expect="lm")
        model, batch = lm.model, _text_batch(args, lm)
    else:
        model, batch = _memory_model_and_batch(args, path)
    flow = gradient_flow(model, batch, method=args.method, jacobian_examples=args.jacobian_examples)
    out = Path(args.out) if args.out else Path(path).parent
    out.mkdir(parents=True, exist_ok=True)
    label = f"{Path(path).parent.name}/{Path(path).stem}"
    png = plot_gradient_flow([(label, flow)], out / "gradient_flow.png", title=f"gradient flow: {label}")
    csv = write_csv([(label, flow)], out / "gradient_flow.csv")
    print(flow.summary())
    print(f"wrote {png} and {csv}", file=sys.stderr)
    return 0


def _text_batch(args, lm):
    if args.data:
        text = read_text(args.data)
        unknown = args.unknown or ("unk" if lm.word_level else "skip")
        ids = lm.vocab.encode(text, unknown=unknown)
        where = args.data
    else:
        stored = lm.meta["config"]
        data_cfg = override(DataConfig(), stored["data"], "checkpoint [data]")
        splits = prepare_corpus(data_cfg, stored["source"], inherited(lm.meta)).splits
        name = "val" if len(splits["val"]) > args.steps else "train"
        ids, where = splits[name], f"the stored {name} split"
    if len(ids) <= args.steps:
        raise ValueError(
            f"data: expected more than --steps={args.steps} symbols in {where}, got {len(ids)}; "
            "give a longer --data FILE or fewer --steps"
        )
    return lm_batch(ids, args.batch_size, args.steps)


def _memory_model_and_batch(args, path):
    """A SequenceClassifier saved by the memory benchmark, with a fresh batch of its task."""
    ckpt = load_checkpoint(path)
    meta = ckpt.meta
    model_meta, task_meta = meta.get("model"), meta.get("memory_task")
    if not isinstance(model_meta, dict) or not isinstance(model_meta.get("config"), dict) or "kind" not in model_meta:
        raise ValueError(
            f"diagnose: {path} holds no language model and no memory-task model; expected a checkpoint from "
            "`rnnkit train` or `rnnkit bench memory --save`"
        )
    if args.data:
        raise ValueError("diagnose: --data applies to language models; a memory-task model generates its own data")
    model = build_model(model_meta["kind"], model_meta["config"], state=ckpt.model_state)  # shapes checked first
    lag = int(task_meta.pop("lag"))
    task = MemoryTask(**task_meta)
    return model, task.batch(args.batch_size, lag, torch.Generator().manual_seed(args.seed))


def _compare(args) -> int:
    cells = [c.strip() for c in args.compare.split(",") if c.strip()]
    bad = [c for c in cells if c not in CELLS]
    if bad or not cells:
        raise ValueError(f"compare: expected comma-separated cells from {', '.join(CELLS)}, got {args.compare!r}")
    if args.hidden_size < 1 or args.num_layers < 1 or args.train_steps < 0:
        raise ValueError(
            f"compare: expected --hidden-size, --num-layers >= 1 and --train-steps >= 0, got {args.hidden_size}, "
            f"{args.num_layers} and {args.train_steps}"
        )
    source = args.data or str(BUNDLED)
    corpus = prepare_corpus(DataConfig(split=(0.9, 0.1, 0.0)), [source])
    held_out = corpus.splits["val"] if len(corpus.splits["val"]) > args.steps else corpus.splits["train"]
    batch = lm_batch(held_out, args.batch_size, args.steps)
    out = Path(args.out) if args.out else Path("runs") / f"compare-{time.strftime('%Y%m%d-%H%M%S')}"
    out.mkdir(parents=True, exist_ok=True)
    model_cfg = LanguageModelConfig.from_dict(
        {"hidden_size": args.hidden_size, "num_layers": args.num_layers, "embedding_size": 32}
    )
    train_cfg = TrainConfig(
        max_steps=args.train_steps, lr=3e-3, log_every=1, eval_every=max(1, args.train_steps), seed=args.seed
    )

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    curves = compare_cells(cells, corpus.splits["train"], batch, corpus.vocab, out, model_cfg, train_cfg, log=log)
    styles = [
        {"color": cell_colour(label.split(",")[0]), "ls": "-" if "untrained" in label else "--"} for label, _ in curves
    ]
    title = f"gradient flow of fresh (solid) and briefly trained (dashed) models, T={args.steps}"
    png = plot_gradient_flow(curves, out / "gradient_flow.png", title=title, styles=styles)
    csv = write_csv(curves, out / "gradient_flow.csv")
    for label, flow in curves:
        print(f"{label}: {flow.summary().split(': ', 1)[1]}")
    print(f"wrote {png} and {csv}", file=sys.stderr)
    return 0
