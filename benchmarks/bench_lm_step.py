"""A language model's training step against its bare recurrent stack, in one run (issue 14).

    python benchmarks/bench_lm_step.py                   # the shapes below, 5 rounds (~3 min)
    python benchmarks/bench_lm_step.py --rounds 9

The bar: the language model's training tokens/s >= 0.9x the bare recurrent stack's, same shapes,
same run. Contenders, interleaved round by round (median of the rounds; the ratio is the median
of per-round ratios to the bare stack):

    stack     rnnkit's ``Recurrent`` alone (the LM's cell, sizes and backend): forward over random
              (T, B, E) inputs and backward from a random output gradient; no optimiser step.
    torch.nn  ``torch.nn.LSTM``/``GRU`` with the same sizes, the same work.
    LM step   one ``Trainer`` step of the ``LanguageModel`` on a token stream, exactly what
              ``rnnkit train`` runs per step: the window, embedding, dropout, the stack, dropout,
              the output layer and loss, the loss checks, backward, clipping (and the gradient
              norm it logs), the optimiser step, the schedule, the log record.

Shapes: (b) bench_layers.py's configuration b as the issue measured it (2x512 LSTM, B=64,
T=100, embedding 64, dropout 0.1, V=65, Adam at a constant lr) and the budget recipes' models
(``rnnkit.tasks.lm.budget``, SMALL and LARGE: sizes, batch, dropout and schedule as
``--max-minutes`` picks them).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time

from rnnkit.cli.runtime import tune_malloc

tune_malloc()  # as the CLI does, before torch allocates anything

import numpy as np  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402

from rnnkit.layers import Recurrent, RecurrentConfig  # noqa: E402
from rnnkit.models import LanguageModel, LanguageModelConfig  # noqa: E402
from rnnkit.tasks.lm.budget import LARGE, SMALL  # noqa: E402
from rnnkit.tasks.lm.training import LanguageModelTask  # noqa: E402
from rnnkit.train import TrainConfig  # noqa: E402
from rnnkit.train.metrics import MetricsLog  # noqa: E402
from rnnkit.train.progress import Progress  # noqa: E402
from rnnkit.train.trainer import Trainer  # noqa: E402

V = 65  # tiny Shakespeare's characters


def shapes() -> list[dict]:
    """(b) and the budget recipe's sizes, each with its batch, dropout and training settings."""
    out = [{"name": "b: 2x512 B64 T100 drop 0.1", "L": 2, "H": 512, "B": 64, "T": 100, "E": 64, "p": 0.1, "train": {}}]
    for recipe in (SMALL, LARGE):
        data, model, train = (recipe.settings[k] for k in ("data", "model", "train"))
        for _, layers, hidden in recipe.sizes:
            B, T, E, p = data["batch_size"], data["seq_len"], model["embedding_size"], model["dropout"]
            name = f"{recipe.name}: {layers}x{hidden} B{B} T{T} drop {p:g}"
            out.append({"name": name, "L": layers, "H": hidden, "B": B, "T": T, "E": E, "p": p, "train": train})
    return out


def contenders(s: dict) -> dict:
    torch.manual_seed(0)
    L, H, B, T, E = s["L"], s["H"], s["B"], s["T"], s["E"]
    stack = Recurrent(RecurrentConfig(cell="lstm", input_size=E, hidden_size=H, num_layers=L))
    peer = nn.LSTM(E, H, L)
    x, grad = torch.randn(T, B, E), torch.randn(T, B, H)

    def bare(module):
        def run():
            module(x)[0].backward(grad)

        return run

    rnn = RecurrentConfig(cell="lstm", hidden_size=H, num_layers=L)
    model = LanguageModel(LanguageModelConfig(vocab_size=V, embedding_size=E, dropout=s["p"], rnn=rnn))
    ids = np.random.default_rng(0).integers(0, V, size=2_000_000).astype(np.int64)
    task = LanguageModelTask(ids, ids[:10_000], B, T, torch.device("cpu"))
    settings = {k: v for k, v in s["train"].items() if k != "eval_every"}
    cfg = TrainConfig(**{**settings, "max_steps": 10**9, "eval_every": 10**9})
    trainer = Trainer(model, task, cfg, tempfile.mkdtemp(prefix="bench-lm-"), meta={}, progress=False)
    trainer.metrics = MetricsLog(trainer.run_dir / "metrics.jsonl", resume_step=0)
    trainer.budget.start()
    progress = Progress(lambda line: None, False, None, 0, "char", 0)

    def lm_step():
        trainer._train_step(progress, trainer.budget.started)

    return {"stack": bare(stack), "torch.nn": bare(peer), "LM step": lm_step}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--steps", type=int, default=4, help="steps per contender per round")
    args = parser.parse_args(argv)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    print("| shape | contender | tokens/s | x stack |\n|---|---|---:|---:|")
    for s in shapes():
        runs = contenders(s)
        for run in runs.values():  # warm-up
            run()
            run()
        rates = {name: [] for name in runs}
        for _ in range(args.rounds):
            for name, run in runs.items():
                t0 = time.perf_counter()
                for _ in range(args.steps):
                    run()
                rates[name].append(s["B"] * s["T"] * args.steps / (time.perf_counter() - t0))
        for name, r in rates.items():
            ratio = statistics.median(a / b for a, b in zip(r, rates["stack"]))
            print(f"| {s['name']} | {name} | {statistics.median(r):,.0f} | {ratio:.2f} |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
