"""Recurrent layer throughput: rnnkit backends against torch.nn, timed interleaved in one process.

    python benchmarks/bench_layers.py                    # every cell and configuration
    python benchmarks/bench_layers.py --cells lstm --configs a,b --rounds 7

For each cell and configuration it prints training (forward + backward) and inference tokens/s
for rnnkit's fused, autograd, native and auto backends, for the torch.nn drop-in ``rnnkit.nn``
(default backend; in generation its cells stepped in a loop) and for torch.nn, the median over rounds
of the per-round ratio to torch.nn (all contenders run once per round, in turn, so drifts in
machine speed hit them alike), and achieved GFLOP/s as a share of this machine's measured GEMM
peak. Configuration (d) is generation: batch 1, one token at a time with carried state.
"""

from __future__ import annotations

import argparse
import copy
import statistics
import time

import torch
from torch import nn

from rnnkit import nn as rnnkit_nn
from rnnkit.cli.runtime import tune_malloc
from rnnkit.layers import Recurrent, RecurrentConfig, to_torch

CONFIGS = {  # name: (H, D, B, T, L)
    "a": (128, 64, 32, 64, 1),
    "b": (512, 64, 64, 100, 2),
    "c": (1024, 1024, 64, 50, 1),
}
GEN = (512, 64, 2)  # (d): H, D, L at batch 1
GATES = {"lstm": 4, "gru": 3, "rnn": 1, "lstm_proj": 4}
#: "lstm_proj" is the projection LSTM, torch.nn's LSTM(proj_size=P) with P = H // PROJ_RATIO
PROJ_RATIO = 4


def layer_config(cell: str, D: int, H: int, L: int, **kw) -> RecurrentConfig:
    if cell == "lstm_proj":
        return RecurrentConfig("lstm", D, H, num_layers=L, proj_size=H // PROJ_RATIO, **kw)
    return RecurrentConfig(cell, D, H, num_layers=L, **kw)


def gemm_peak(sizes=(1024, 2048, 3072), repeats: int = 10) -> float:
    """Best observed fp32 GEMM GFLOP/s over square products of a few sizes (the machine's peak,
    as far as torch's BLAS reaches it). Taken as the best of many tries so that a moment of
    interference cannot lower it."""
    best = 0.0
    for n in sizes:
        a, b = torch.randn(n, n), torch.randn(n, n)
        a @ b
        for _ in range(repeats):
            t0 = time.perf_counter()
            a @ b
            best = max(best, 2 * n**3 / (time.perf_counter() - t0) / 1e9)
    return best


def layer_flops(cell: str, H: int, D: int, L: int, tokens: int, train: bool) -> float:
    """Matmul FLOPs: forward 2*G*H*(D_in + H) per token and layer (with a projection to P: h has P
    units, plus 2*P*H for the projection); training adds dx/dh and dW (x3)."""
    G, P = GATES[cell], (H // PROJ_RATIO if cell == "lstm_proj" else H)
    extra = 2 * P * H if cell == "lstm_proj" else 0
    per_token = sum(2 * G * H * ((D if layer == 0 else P) + P) + extra for layer in range(L))
    return per_token * tokens * (3 if train else 1)


def timed(fn, iters: int) -> float:
    t0 = time.perf_counter()
    for _ in range(iters):
        fn()
    return (time.perf_counter() - t0) / iters


def sequence_contenders(cell: str, H: int, D: int, B: int, T: int, L: int):
    torch.manual_seed(0)
    ours = {b: Recurrent(layer_config(cell, D, H, L, backend=b)) for b in ("fused", "autograd", "native", "auto")}
    for layer in ours.values():
        layer.load_state_dict(ours["fused"].state_dict())
    reference = to_torch(ours["fused"])
    x = torch.randn(T, B, D, requires_grad=True)
    grad = torch.randn(T, B, ours["fused"].output_size)

    def train(module):
        def run():
            out = module(x)[0]
            out.backward(grad)

        return run

    def infer(module):
        def run():
            with torch.no_grad():
                module(x)

        return run

    dropin = rnnkit_nn.from_torch(copy.deepcopy(reference))  # a swapped import: torch.nn's module, rnnkit's compute
    modules = {**{f"rnnkit-{k}": v for k, v in ours.items()}, "rnnkit.nn": dropin, "torch.nn": reference}
    return {mode: {name: make(m) for name, m in modules.items()} for mode, make in (("train", train), ("infer", infer))}


def generation_contenders(cell: str, H: int, D: int, L: int, steps: int):
    torch.manual_seed(0)
    ours = Recurrent(layer_config(cell, D, H, L))
    reference = to_torch(ours)
    xs = torch.randn(steps, 1, D)

    def rnnkit_step():
        with torch.no_grad():
            state = None
            for t in range(steps):
                _, state = ours.step(xs[t], state)

    def torch_step():
        with torch.no_grad():
            state = None
            for t in range(steps):
                _, state = reference(xs[t : t + 1], state)

    contenders = {"rnnkit-step": rnnkit_step, "torch.nn": torch_step}
    if cell in ("lstm", "gru"):
        cells = [getattr(nn, f"{cell.upper()}Cell")(D if i == 0 else H, H) for i in range(L)]
        contenders[f"torch.nn.{cell.upper()}Cell loop"] = cell_loop(cells, cell, xs, H)
        dropins = [rnnkit_nn.from_torch(copy.deepcopy(c)) for c in cells]
        contenders[f"rnnkit.nn.{cell.upper()}Cell loop"] = cell_loop(dropins, cell, xs, H)
    return contenders


def cell_loop(cells: list, cell: str, xs, H: int):
    """Generation by a stack of cells stepped by hand (the classic loop)."""

    def run():
        with torch.no_grad():
            hs = [torch.zeros(1, H) for _ in cells]
            cs = [torch.zeros(1, H) for _ in cells]
            for t in range(xs.shape[0]):
                inp = xs[t]
                for i, c in enumerate(cells):
                    if cell == "lstm":
                        hs[i], cs[i] = c(inp, (hs[i], cs[i]))
                    else:
                        hs[i] = c(inp, hs[i])
                    inp = hs[i]

    return run


def race(contenders: dict, rounds: int, target_s: float) -> dict[str, tuple[float, float]]:
    """Median seconds per call and median per-round ratio (torch.nn time / contender time)."""
    iters = {}
    for name, fn in contenders.items():  # warm up, then size each contender's batch of calls
        fn()
        once = timed(fn, 1)
        iters[name] = max(1, int(target_s / max(once, 1e-6)))
    times = {name: [] for name in contenders}
    for _ in range(rounds):
        for name, fn in contenders.items():
            times[name].append(timed(fn, iters[name]))
    ref = times["torch.nn"]
    return {
        name: (statistics.median(ts), statistics.median(r / t for r, t in zip(ref, ts))) for name, ts in times.items()
    }


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--cells", default="lstm,gru,rnn,lstm_proj", help="comma-separated cells (lstm_proj: LSTM(proj_size=H/4))"
    )
    parser.add_argument("--configs", default="a,b,c,d", help="comma-separated configurations (a-d)")
    parser.add_argument("--rounds", type=int, default=5, help="timed rounds per contender (median)")
    parser.add_argument("--target", type=float, default=0.4, help="seconds per contender per round")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    parser.add_argument(
        "--malloc",
        choices=["tuned", "default"],
        default="tuned",
        help="tuned: keep freed memory in the heap, as the rnnkit CLI does (rnnkit.cli.runtime); it applies to "
        "every contender alike. default: glibc as it is",
    )
    args = parser.parse_args(argv)
    if args.malloc == "tuned":
        tune_malloc()
    if args.threads:
        torch.set_num_threads(args.threads)
    peak = gemm_peak()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, malloc {args.malloc}", flush=True)
    rows = []  # (cell, cfg, mode, contender, tokens/s, ratio, GFLOP/s)
    for cell in args.cells.split(","):
        for cfg in args.configs.split(","):
            if cfg == "d":
                H, D, L = GEN
                steps = 50
                result = race(generation_contenders(cell, H, D, L, steps), args.rounds, args.target)
                for name, (sec, ratio) in result.items():
                    gflops = layer_flops(cell, H, D, L, steps, train=False) / sec / 1e9
                    rows.append((cell, cfg, "gen", name, steps / sec, ratio, gflops))
                    print(*rows[-1][:6], sep="  ", flush=True)
                continue
            H, D, B, T, L = CONFIGS[cfg]
            for mode, contenders in sequence_contenders(cell, H, D, B, T, L).items():
                result = race(contenders, args.rounds, args.target)
                for name, (sec, ratio) in result.items():
                    gflops = layer_flops(cell, H, D, L, B * T, train=mode == "train") / sec / 1e9
                    rows.append((cell, cfg, mode, name, B * T / sec, ratio, gflops))
                    print(*rows[-1][:6], sep="  ", flush=True)
    peak = max(peak, gemm_peak())  # again at the end: the best of both
    print(f"\nfp32 GEMM peak {peak:.1f} GFLOP/s (best of square 1024-3072 products, before and after)")
    header = ("cell", "cfg", "mode", "contender", "tokens/s", "x torch.nn", "GFLOP/s", "% peak")
    print("{:9} {:3} {:5} {:26} {:>11} {:>10} {:>8} {:>6}".format(*header))
    for cell, cfg, mode, name, tps, ratio, gflops in rows:
        print(f"{cell:9} {cfg:3} {mode:5} {name:26} {tps:11.0f} {ratio:10.2f} {gflops:8.1f} {100 * gflops / peak:6.1f}")


if __name__ == "__main__":
    main()
