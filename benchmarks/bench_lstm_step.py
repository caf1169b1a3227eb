"""One LSTM step's elementwise math: the compiled kernel against the eager ops it replaces.

    python benchmarks/bench_lstm_step.py                  # B=64, H=512 (configuration (b)), then B=1
    python benchmarks/bench_lstm_step.py --batch 32 --hidden 128

Times, interleaved in one process (median of rounds), per call:
  forward    LSTMCell.forward_step's gate math (3 sigmoids, tanh, c_t, tanh c_t, h_t) on a (B, 4H)
             buffer, eager ops vs ``rnnkit.cells.compiled.lstm_forward``;
  backward   d_a and dL/dc_{t-1}: eager ``local_grads`` (one step's share) + ``backward_step``'s
             ops vs ``compiled.lstm_backward``;
  gen step   a whole generation step of one layer with D=H (both matrix-vector products and the
             gates): torch's ``_VF.lstm_cell`` (what nn.LSTMCell runs) vs ``compiled.lstm_step``.
The recurrent GEMM is excluded from forward/backward (it is the same BLAS call either way).
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
from torch import _VF

from rnnkit.cells import LSTMCell, compiled


def per_call(fn, target_s: float) -> float:
    fn()
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < target_s:
        fn()
        n += 1
    return (time.perf_counter() - t0) / n


def contenders(B: int, H: int):
    g = torch.Generator().manual_seed(0)
    cell = LSTMCell()
    pre = torch.randn(B, 4 * H, generator=g) * 2
    c_prev = torch.randn(B, H, generator=g)
    a, c, h, tc = torch.empty(B, 4 * H), torch.empty(B, H), torch.empty(B, H), torch.empty(B, H)
    zero_h = torch.zeros(B, H)

    def forward(eager: bool):
        def run():
            a.copy_(pre)
            if eager:  # LSTMCell.forward_step's eager branch, after its GEMM
                i, f, g_, o = a.split(H, dim=1)
                a[:, : 2 * H].sigmoid_()
                g_.tanh_()
                o.sigmoid_()
                torch.mul(f, c_prev, out=c)
                c.addcmul_(i, g_)
                torch.tanh(c, out=tc)
                torch.mul(o, tc, out=h)
            else:
                compiled.lstm_forward(a, c_prev, c, tc, h)

        return run

    forward(False)()  # activations for the backward
    A, C_all, cache = a.view(1, B, 4 * H), torch.stack([c_prev, c]), {"tc": tc.view(1, B, H)}
    d_h, d_c0 = torch.randn(B, H, generator=g), torch.randn(B, H, generator=g)
    d_c, d_a = torch.empty(B, H), torch.empty(B, 4 * H)

    def backward(eager: bool):
        def run():
            d_c.copy_(d_c0)
            if eager:  # one step's share of local_grads + backward_step's ops, without its GEMM
                with compiled.disabled():
                    local = cell.local_grads(A, None, C_all, cache)
                    step = {k: v[0] for k, v in local.items()}
                    P = step["P"]
                    d_c.addcmul_(d_h, step["P_c"])
                    torch.mul(d_c.unsqueeze(1), P, out=d_a.view(B, 4, H))
                    torch.mul(d_h, P[:, 3], out=d_a.view(B, 4, H)[:, 3])
                    d_c.mul_(step["f"])
            else:
                compiled.lstm_backward(a, tc, c_prev, d_h, d_c, d_a)

        return run

    x = torch.randn(B, H, generator=g)
    w_ih, w_hh = torch.randn(4 * H, H, generator=g) / H**0.5, torch.randn(4 * H, H, generator=g) / H**0.5
    b_ih, b_hh = torch.zeros(4 * H), torch.zeros(4 * H)
    bias = b_ih + b_hh
    h_new, c_new = torch.empty(B, H), torch.empty(B, H)

    def gen_native():
        _VF.lstm_cell(x, (zero_h, c_prev), w_ih, w_hh, b_ih, b_hh)

    def gen_kernel():
        compiled.lstm_step(x, w_ih, w_hh, bias, zero_h, c_prev, h_new, c_new)

    return {
        "forward": (forward(True), forward(False)),
        "backward": (backward(True), backward(False)),
        "gen step": (gen_native, gen_kernel) if B <= compiled.STEP_MAX_ROWS else None,
    }


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, nargs="*", default=[64, 1], help="batch sizes B")
    parser.add_argument("--hidden", type=int, default=512, help="hidden units H")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--target", type=float, default=0.3, help="seconds per contender per round")
    args = parser.parse_args(argv)
    if compiled.library("lstm") is None:
        raise SystemExit(f"the compiled kernel is unavailable: {compiled.status()['lstm']}")
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; H={args.hidden}")
    print(f"{'B':>4}  {'what':9} {'eager / torch':>14} {'compiled':>10} {'speed-up':>9}")
    for B in args.batch:
        for what, pair in contenders(B, args.hidden).items():
            if pair is None:
                continue
            ratios, times = [], ([], [])
            for _ in range(args.rounds):
                slow, fast = per_call(pair[0], args.target), per_call(pair[1], args.target)
                times[0].append(slow)
                times[1].append(fast)
                ratios.append(slow / fast)
            slow_us, fast_us = statistics.median(times[0]) * 1e6, statistics.median(times[1]) * 1e6
            ratio = statistics.median(ratios)
            print(f"{B:>4}  {what:9} {slow_us:>11.1f} µs {fast_us:>7.1f} µs {ratio:>8.2f}x")


if __name__ == "__main__":
    main()
