"""Training throughput of the cells torch.nn lacks, against rnnkit's plain fused cells, interleaved.

    python benchmarks/bench_new_cells.py                   # lnlstm, lngru, indrnn; configurations a-c
    python benchmarks/bench_new_cells.py --rounds 9 --configs b

torch.nn has no layer-norm LSTM, GRU or IndRNN, so the peer is rnnkit's own cell each one extends:
the layer-norm LSTM and GRU against the plain ones' fused paths (issue 18's bar for the LSTM: >= 0.7x),
the IndRNN against
the Elman RNN's (its recurrence is a vector product instead of a matrix one). Every contender runs
forward + backward once per round, in turn; the ratio printed is the median of the per-round
ratios to the peer, so a drift in machine speed hits all alike.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from rnnkit.cli.runtime import tune_malloc
from rnnkit.layers import Recurrent, RecurrentConfig

CONFIGS = {"a": (128, 64, 32, 64, 1), "b": (512, 64, 64, 100, 2), "c": (256, 64, 32, 100, 1)}  # H, D, B, T, L
#: (contender: (cell, backend)), the peer first
RACES = {
    "lnlstm": {"lstm-fused": ("lstm", "fused"), "lnlstm-fused": ("lnlstm", "fused"),
               "lnlstm-autograd": ("lnlstm", "autograd")},
    "lngru": {"gru-fused": ("gru", "fused"), "lngru-fused": ("lngru", "fused"),
              "lngru-autograd": ("lngru", "autograd")},
    "indrnn": {"rnn-fused": ("rnn", "fused"), "indrnn-fused": ("indrnn", "fused"),
               "indrnn-autograd": ("indrnn", "autograd")},
}  # fmt: skip


def race(contenders: dict, H: int, D: int, B: int, T: int, L: int, rounds: int) -> dict[str, tuple[float, float]]:
    torch.manual_seed(0)
    layers = {k: Recurrent(RecurrentConfig(cell, D, H, num_layers=L, backend=b)) for k, (cell, b) in contenders.items()}
    x, grad = torch.randn(T, B, D), torch.randn(T, B, H)

    def once(layer) -> float:
        t0 = time.perf_counter()
        layer(x)[0].backward(grad)
        return time.perf_counter() - t0

    for layer in layers.values():  # warm up
        once(layer)
    times = {k: [] for k in layers}
    for _ in range(rounds):
        for k, layer in layers.items():
            times[k].append(once(layer))
    peer = times[next(iter(layers))]
    return {
        k: (B * T / statistics.median(ts), statistics.median(p / t for p, t in zip(peer, ts)))
        for k, ts in times.items()
    }


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cells", default="lnlstm,lngru,indrnn", help="comma-separated: lnlstm, lngru, indrnn")
    parser.add_argument("--configs", default="a,b,c", help="comma-separated configurations (a-c)")
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args(argv)
    tune_malloc()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; training (forward + backward)")
    print(f"{'cell':7} {'cfg':3} {'contender':17} {'tokens/s':>10} {'x peer':>7}")
    for cell in args.cells.split(","):
        for cfg in args.configs.split(","):
            for name, (tps, ratio) in race(RACES[cell], *CONFIGS[cfg], args.rounds).items():
                print(f"{cell:7} {cfg:3} {name:17} {tps:10.0f} {ratio:7.2f}", flush=True)


if __name__ == "__main__":
    main()
