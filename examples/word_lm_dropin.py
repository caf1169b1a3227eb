"""An existing PyTorch word-language-model script, switched to rnnkit by its import.

The script is the classic loop (an embedding, a stacked LSTM, a linear decoder; SGD at lr 20 with
gradient clipping 0.25, truncated BPTT over 35 tokens, the learning rate divided by 4 when the
validation loss stops improving). The recurrent layer comes from ``RNN`` below, and that is the only
line that differs between the two runs:

    from torch import nn as RNN          # torch.nn.LSTM
    from rnnkit import nn as RNN         # rnnkit.nn.LSTM: the drop-in

With the same seed both models start from the same weights (rnnkit.nn initialises as torch.nn
does). ``--impl both`` trains one, then the other, and prints their losses side by side and the
time each took; then it measures gradient flow through time on the rnnkit model with the Python
API (``rnnkit.diagnostics.gradient_flow``), as ``rnnkit diagnose`` does for rnnkit's own models.

    python examples/word_lm_dropin.py                          # PTB from $RNNKIT_DATA, both
    python examples/word_lm_dropin.py --impl rnnkit --epochs 2 --max-batches 0   # whole epochs
    python examples/word_lm_dropin.py --train my.txt --valid my_valid.txt
"""

from __future__ import annotations

import argparse
import gzip
import math
import os
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

import rnnkit.nn
from rnnkit.diagnostics import gradient_flow

IMPLS = {"torch": nn, "rnnkit": rnnkit.nn}


# ----- the script as a PyTorch user has it -------------------------------------------------------
def read_words(path: Path) -> list[str]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as f:
        return [w for line in f for w in line.split() + ["<eos>"]]


def batchify(ids: torch.Tensor, batch: int) -> torch.Tensor:
    n = ids.numel() // batch
    return ids[: n * batch].view(batch, n).t().contiguous()  # (T_total, B)


class WordLM(nn.Module):
    def __init__(self, RNN, vocab: int, emb: int, hidden: int, layers: int, dropout: float):
        super().__init__()
        self.drop = nn.Dropout(dropout)
        self.encoder = nn.Embedding(vocab, emb)
        self.rnn = RNN.LSTM(emb, hidden, layers, dropout=dropout)  # <- the recurrent layer
        self.decoder = nn.Linear(hidden, vocab)
        nn.init.uniform_(self.encoder.weight, -0.1, 0.1)
        nn.init.uniform_(self.decoder.weight, -0.1, 0.1)
        nn.init.zeros_(self.decoder.bias)

    def forward(self, x, hidden=None):
        output, hidden = self.rnn(self.drop(self.encoder(x)), hidden)
        return self.decoder(self.drop(output)), hidden


def evaluate(model, data: torch.Tensor, bptt: int) -> float:
    model.eval()
    total, hidden = 0.0, None
    with torch.no_grad():
        for i in range(0, data.size(0) - 1, bptt):
            x, y = data[i : i + bptt], data[i + 1 : i + 1 + bptt]
            x = x[: y.size(0)]
            logits, hidden = model(x, hidden)
            total += F.cross_entropy(logits.flatten(0, 1), y.flatten(), reduction="sum").item()
    return total / (data.size(0) - 1) / data.size(1)


def train(args, RNN, train_data, valid_data, vocab: int, log: list) -> tuple[WordLM, float]:
    torch.manual_seed(args.seed)
    model = WordLM(RNN, vocab, args.emsize, args.nhid, args.nlayers, args.dropout)
    lr, best, start = args.lr, math.inf, time.perf_counter()
    for epoch in range(args.epochs):
        model.train()
        hidden, total, count = None, 0.0, 0
        for batch, i in enumerate(range(0, train_data.size(0) - 1, args.bptt)):
            if args.max_batches and batch >= args.max_batches:
                break
            x, y = train_data[i : i + args.bptt], train_data[i + 1 : i + 1 + args.bptt]
            x = x[: y.size(0)]
            hidden = None if hidden is None else tuple(h.detach() for h in hidden)
            model.zero_grad()
            logits, hidden = model(x, hidden)
            loss = F.cross_entropy(logits.flatten(0, 1), y.flatten())
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), args.clip)
            with torch.no_grad():
                for p in model.parameters():
                    p.add_(p.grad, alpha=-lr)
            total, count = total + loss.item(), count + 1
            if (batch + 1) % args.log_interval == 0:
                log.append((epoch + 1, batch + 1, total / count))
                total, count = 0.0, 0
        val = evaluate(model, valid_data, args.bptt)
        log.append((epoch + 1, "valid", val))
        if val < best:
            best = val
        else:
            lr /= 4.0
    return model, time.perf_counter() - start


# ----- around it: both imports, side by side ----------------------------------------------------
def main(argv=None) -> None:
    data = Path(os.environ.get("RNNKIT_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--train", type=Path, default=data / "ptb" / "ptb.train.txt.gz")
    p.add_argument("--valid", type=Path, default=data / "ptb" / "ptb.valid.txt")
    p.add_argument("--impl", choices=["torch", "rnnkit", "both"], default="both")
    p.add_argument("--emsize", type=int, default=200)
    p.add_argument("--nhid", type=int, default=200)
    p.add_argument("--nlayers", type=int, default=2)
    p.add_argument("--dropout", type=float, default=0.2)
    p.add_argument("--lr", type=float, default=20.0)
    p.add_argument("--clip", type=float, default=0.25)
    p.add_argument("--bptt", type=int, default=35)
    p.add_argument("--batch-size", type=int, default=20)
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--max-batches", type=int, default=400, help="batches per epoch (0: the whole epoch)")
    p.add_argument("--valid-tokens", type=int, default=20000, help="validation tokens used (0: all)")
    p.add_argument("--log-interval", type=int, default=100)
    p.add_argument("--seed", type=int, default=1111)
    args = p.parse_args(argv)
    for path in (args.train, args.valid):
        if not path.is_file():
            raise SystemExit(f"word_lm_dropin: no text at {path}; set RNNKIT_DATA or pass --train/--valid")
    train_words, valid_words = read_words(args.train), read_words(args.valid)
    vocab = {w: i for i, w in enumerate(dict.fromkeys(train_words))}
    unk = vocab.setdefault("<unk>", len(vocab))
    if args.valid_tokens:
        valid_words = valid_words[: args.valid_tokens]
    to_ids = lambda words: torch.tensor([vocab.get(w, unk) for w in words])  # noqa: E731
    train_data = batchify(to_ids(train_words), args.batch_size)
    valid_data = batchify(to_ids(valid_words), 10)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; {len(train_words):,} training tokens, "
          f"vocabulary {len(vocab):,}; {args.nlayers}x{args.nhid} LSTM, dropout {args.dropout}")  # fmt: skip

    impls = ["torch", "rnnkit"] if args.impl == "both" else [args.impl]
    logs, seconds, models = {}, {}, {}
    for impl in impls:
        logs[impl] = []
        models[impl], seconds[impl] = train(args, IMPLS[impl], train_data, valid_data, len(vocab), logs[impl])
        print(f"{impl}: {seconds[impl]:.1f} s", flush=True)
    print(f"\n{'epoch':>5} {'batch':>6} " + " ".join(f"{impl + ' loss':>12}" for impl in impls))
    for rows in zip(*logs.values()):
        print(f"{rows[0][0]:>5} {rows[0][1]!s:>6} " + " ".join(f"{r[2]:12.4f}" for r in rows))
    for impl in impls:
        print(f"{impl}: final validation loss {logs[impl][-1][2]:.4f} (perplexity {math.exp(logs[impl][-1][2]):.1f})")
    if len(impls) == 2:
        print(f"time: rnnkit.nn {seconds['rnnkit']:.1f} s, torch.nn {seconds['torch']:.1f} s "
              f"(x{seconds['torch'] / seconds['rnnkit']:.2f} torch.nn's speed)")  # fmt: skip

    if "rnnkit" in models:  # gradient flow through time, through the Python API
        model, x = models["rnnkit"], valid_data[:50, :4]
        y = valid_data[1:51, :4]
        last = lambda m, x, y: F.cross_entropy(m(x)[0][-1], y[-1], reduction="sum")  # noqa: E731
        flow = gradient_flow(model, (x, y), loss_fn=last)
        print("\ngradient flow (rnnkit.diagnostics.gradient_flow):", flow.summary())


if __name__ == "__main__":
    main()
