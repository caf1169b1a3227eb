"""Training throughput of the cells torch.nn lacks, against rnnkit's plain fused cells, interleaved.

    python benchmarks/bench_new_cells.py                   # lnlstm, lngru, indrnn; configurations a-c
    python benchmarks/bench_new_cells.py --rounds 9 --configs b
    python benchmarks/bench_new_cells.py --cells mingru,minlstm --configs s,s64   # the scan cells' bar

torch.nn has no layer-norm LSTM, GRU or IndRNN, so the peer is rnnkit's own cell each one extends:
the layer-norm LSTM and GRU against the plain ones' fused paths (issue 18's bar for the LSTM: >= 0.7x),
the IndRNN against
the Elman RNN's (its recurrence is a vector product instead of a matrix one), minGRU and minLSTM
against the fused GRU (issue 18's bar: >= 3x at T=512, H=256, B=32; configuration s has D = H, a
layer inside a stack, s64 D = 64, a first layer as in a-c), each also with its eager chunked scan
(no compiled kernel) and on the autograd backend. Every contender runs
forward + backward once per round, in turn; the ratio printed is the median of the per-round
ratios to the peer, so a drift in machine speed hits all alike.
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import time

import torch

from rnnkit.cells import compiled
from rnnkit.cli.runtime import tune_malloc
from rnnkit.layers import Recurrent, RecurrentConfig

CONFIGS = {  # H, D, B, T, L
    "a": (128, 64, 32, 64, 1),
    "b": (512, 64, 64, 100, 2),
    "c": (256, 64, 32, 100, 1),
    "s": (256, 256, 32, 512, 1),
    "s64": (256, 64, 32, 512, 1),
}
#: (contender: (cell, backend)), the peer first
RACES = {
    "lnlstm": {"lstm-fused": ("lstm", "fused"), "lnlstm-fused": ("lnlstm", "fused"),
               "lnlstm-autograd": ("lnlstm", "autograd")},
    "lngru": {"gru-fused": ("gru", "fused"), "lngru-fused": ("lngru", "fused"),
              "lngru-autograd": ("lngru", "autograd")},
    "indrnn": {"rnn-fused": ("rnn", "fused"), "indrnn-fused": ("indrnn", "fused"),
               "indrnn-autograd": ("indrnn", "autograd")},
    "mingru": {"gru-fused": ("gru", "fused"), "mingru-fused": ("mingru", "fused"),
               "mingru-eager-scan": ("mingru", "eager"), "mingru-autograd": ("mingru", "autograd")},
    "minlstm": {"gru-fused": ("gru", "fused"), "minlstm-fused": ("minlstm", "fused"),
                "minlstm-eager-scan": ("minlstm", "eager"), "minlstm-autograd": ("minlstm", "autograd")},
}  # fmt: skip
#: "eager": the fused backend without its compiled kernel (the chunked scan in PyTorch ops)


def race(contenders: dict, H: int, D: int, B: int, T: int, L: int, rounds: int) -> dict[str, tuple[float, float]]:
    torch.manual_seed(0)
    layers = {
        k: Recurrent(RecurrentConfig(cell, D, H, num_layers=L, backend="fused" if b == "eager" else b))
        for k, (cell, b) in contenders.items()
    }
    eager = {k for k, (_, b) in contenders.items() if b == "eager"}
    x, grad = torch.randn(T, B, D), torch.randn(T, B, H)

    def once(name: str) -> float:
        with compiled.disabled() if name in eager else contextlib.nullcontext():
            t0 = time.perf_counter()
            layers[name](x)[0].backward(grad)
            return time.perf_counter() - t0

    for name in layers:  # warm up
        once(name)
    times = {k: [] for k in layers}
    for _ in range(rounds):
        for k in layers:
            times[k].append(once(k))
    peer = times[next(iter(layers))]
    return {
        k: (B * T / statistics.median(ts), statistics.median(p / t for p, t in zip(peer, ts)))
        for k, ts in times.items()
    }


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cells", default="lnlstm,lngru,indrnn", help="comma-separated: " + ", ".join(RACES))
    parser.add_argument("--configs", default="a,b,c", help="comma-separated configurations: " + ", ".join(CONFIGS))
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args(argv)
    tune_malloc()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; training (forward + backward)")
    print(f"{'cell':7} {'cfg':3} {'contender':18} {'tokens/s':>10} {'x peer':>7}")
    for cell in args.cells.split(","):
        for cfg in args.configs.split(","):
            for name, (tps, ratio) in race(RACES[cell], *CONFIGS[cfg], args.rounds).items():
                print(f"{cell:7} {cfg:3} {name:18} {tps:10.0f} {ratio:7.2f}", flush=True)


if __name__ == "__main__":
    main()
