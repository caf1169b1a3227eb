"""rnnkit's character model against a budget-matched small transformer, side by side (issue 14).

    python benchmarks/charlm_vs_transformer.py                        # budgets 90, 180, 600 s: ~30 min
    python benchmarks/charlm_vs_transformer.py --budgets 180 --rnnkit-flags "--hidden-size 512"
    python benchmarks/charlm_vs_transformer.py --budgets 6,10 --data-dir /tmp/small   # a smoke test

In one process, one run after the other, for each wall-clock budget (the clock counts evaluation):

1. rnnkit, through its CLI in-process: ``rnnkit train input.txt --split 0.9,0.1,0 --max-minutes
   BUDGET/60 --seed SEED --sample-length 0`` plus RNNKIT_FLAGS[budget] and --rnnkit-flags. Its
   curve, steps, throughput (median of its "train" records) and size come from the run directory.
2. The peer (benchmarks/transformer_peer.py): nanoGPT's README CPU configuration (4 layers, 4
   heads, 128-d, block 64, batch 12, no dropout, no biases, tied head; attention composed with
   F.scaled_dot_product_attention, ~8% faster here than nn.TransformerEncoderLayer) trained with
   AdamW and a cosine fitted to the budget. It evaluates at the first step whose elapsed time reaches each of
   the rnnkit run's evaluation times (so rnnkit runs first; the "elapsed_s" of its eval records,
   its last, the one after the budget, excepted) and once after the budget. With --only
   transformer it evaluates every tenth of the budget instead.

Data: tiny Shakespeare ($RNNKIT_DATA or ../shared/data, tinyshakespeare/input.txt), split by
rnnkit's own code (``prepare_corpus``, with the rnnkit run's data settings from its config.json):
the first 90% of the characters train, the last 10% validate, the vocabulary is the training
text's characters, so both models see identical id streams.

Validation loss, nats per char over the whole validation stream: rnnkit's own (its streams carry
the hidden state from window to window); the transformer's is nanoGPT's estimator made exact:
non-overlapping windows of 64 (+1 target), each scored in full, so a char's context is 0-63 chars.
Beside the final one, a sliding-window score (windows of 64 every 32, the last 32 scored: context
>= 32) gives the transformer's best case; it is computed after the clock stops.

Report: per budget both curves, the finals, the difference (rnnkit - transformer; the issue's bar:
<= -0.05 at every budget), steps, tokens/s and parameters; then a summary over budgets. Writes
--out-dir/results.json (everything, with the machine) and --out-dir/curves.png. Run it alone on
the machine: timings are the point.
"""

from __future__ import annotations

import argparse
import itertools
import json
import shlex
import statistics
import sys
import time
from pathlib import Path

from rnnkit.cli.runtime import tune_malloc

tune_malloc()  # before torch is imported, as the CLI does: it applies to both contenders alike

import torch  # noqa: E402
from default_model import default_data_dir, machine  # noqa: E402 (the same data folder and machine record)
from transformer_peer import PeerConfig, train  # noqa: E402

import rnnkit  # noqa: E402
from rnnkit.cli.main import main as rnnkit_main  # noqa: E402
from rnnkit.tasks.lm.config import DataConfig  # noqa: E402
from rnnkit.tasks.lm.prepare import prepare_corpus  # noqa: E402

#: Extra `rnnkit train` flags per budget (seconds), e.g. {600: ["--hidden-size", "512"]}. None: the
#: budget defaults --max-minutes picks (rnnkit.tasks.lm.budget).
RNNKIT_FLAGS: dict[int, list[str]] = {}
BAR = 0.05  # rnnkit must be at least this much below the transformer at every budget


def budgets(text: str) -> list[int]:
    try:
        values = [int(b) for b in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected seconds like 90,180,600, got {text!r}") from None
    if not values or any(v <= 0 for v in values):
        raise argparse.ArgumentTypeError(f"expected seconds > 0 like 90,180,600, got {text!r}")
    return values


def run_rnnkit(data: Path, budget: int, run_dir: Path, seed: int, extra: list[str]) -> dict:
    flags = [str(data), "--split", "0.9,0.1,0", "--max-minutes", f"{budget / 60:g}", "--run-dir", str(run_dir)]
    flags += ["--seed", str(seed), "--sample-length", "0", *extra]
    print(f"rnnkit train {shlex.join(flags)}", flush=True)
    code = rnnkit_main(["train", *flags])
    if code:
        raise SystemExit(f"benchmark: the rnnkit run of {budget} s failed (exit {code})")
    records = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines() if line.strip()]
    curve = [
        {"step": r["step"], "elapsed_s": r["elapsed_s"], "val_loss": r["val_loss"]}
        for r in records
        if r.get("kind") == "eval" and "val_loss" in r
    ]
    rates = [r["tokens_per_s"] for r in records if r.get("kind") == "train" and "tokens_per_s" in r]
    config = json.loads((run_dir / "config.json").read_text())
    rnn = config["model"]["rnn"]
    steps = max((r["step"] for r in records if "step" in r), default=0)
    seconds = max((r["elapsed_s"] for r in records if "elapsed_s" in r), default=0.0)
    tokens = steps * config["data"]["batch_size"] * config["data"]["seq_len"]
    return {
        "flags": flags,
        "run_dir": str(run_dir),
        "model": f"{rnn['num_layers']}x{rnn['hidden_size']} {rnn['cell'].upper()}",
        "data_config": config["data"],
        "vocab_size": config["model"]["vocab_size"],
        "parameters": sum(p.numel() for p in rnnkit.load(run_dir).model.parameters()),
        "curve": curve,
        "final_val_loss": curve[-1]["val_loss"],
        "best_val_loss": min(r["val_loss"] for r in curve),
        "steps": steps,
        "seconds": seconds,
        "train_tokens_per_s": statistics.median(rates) if rates else None,
        "tokens_per_s_overall": tokens / seconds if seconds else None,
    }


def corpus(data: Path, data_config: dict | None):
    """rnnkit's split and vocabulary: the rnnkit run's data settings when there is one."""
    fields = dict(data_config or {"split": (0.9, 0.1, 0.0)})
    fields["split"] = tuple(fields["split"])
    prepared = prepare_corpus(DataConfig(**fields).validate(), [str(data)])
    return prepared.splits["train"], prepared.splits["val"], len(prepared.vocab)


def fmt(value, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def report(budget: int, rnn: dict | None, peer: dict | None) -> str:
    lines = [f"\n=== budget {budget} s ==="]
    sides = [(name, r) for name, r in (("rnnkit", rnn), ("transformer", peer)) if r is not None]
    for name, r in sides:
        what = r.get("model") or "4x128 transformer (nanoGPT CPU config)"
        lines.append(
            f"{name}: {what}, {r['parameters']:,d} parameters, {r['steps']} steps in {r['seconds']:.1f} s, "
            f"{fmt(r['train_tokens_per_s'], ',.0f')} tok/s training ({fmt(r['tokens_per_s_overall'], ',.0f')} "
            "overall, evaluation included)"
        )
    head = "".join(f"{'seconds':>9}{name + ' val':>17}" for name, _ in sides)
    lines += ["validation loss (nats/char) against wall seconds", head, "-" * len(head)]
    for row in itertools.zip_longest(*(r["curve"] for _, r in sides)):
        lines.append("".join(f"{'':>26}" if e is None else f"{e['elapsed_s']:9.1f}{e['val_loss']:17.4f}" for e in row))
    for name, r in sides:
        lines.append(f"{name} final {r['final_val_loss']:.4f}, best {r['best_val_loss']:.4f}")
    if peer is not None:
        lines.append(f"transformer sliding-window (context >= 32) final {peer['sliding_val_loss']:.4f}")
    if rnn is not None and peer is not None:
        diff = rnn["final_val_loss"] - peer["final_val_loss"]
        lines.append(
            f"difference rnnkit - transformer: {diff:+.4f} (bar <= -{BAR}): {'PASS' if diff <= -BAR else 'FAIL'}"
        )
    return "\n".join(lines)


def summary(results: list[dict]) -> str:
    head = (
        f"{'budget s':>8}{'rnnkit':>9}{'transf.':>9}{'diff':>9}{'bar':>6}{'sliding':>9}"
        f"{'rnn steps':>10}{'tf steps':>10}{'rnn tok/s':>11}{'tf tok/s':>10}"
    )
    lines = ["\nsummary (final validation loss, nats/char)", head, "-" * len(head)]
    for res in results:
        rnn, peer = res.get("rnnkit"), res.get("transformer")
        diff = None if rnn is None or peer is None else rnn["final_val_loss"] - peer["final_val_loss"]
        verdict = "-" if diff is None else ("PASS" if diff <= -BAR else "FAIL")
        lines.append(
            f"{res['budget_s']:8d}{fmt(rnn and rnn['final_val_loss'], '9.4f'):>9}"
            f"{fmt(peer and peer['final_val_loss'], '9.4f'):>9}{fmt(diff, '+9.4f'):>9}{verdict:>6}"
            f"{fmt(peer and peer['sliding_val_loss'], '9.4f'):>9}{fmt(rnn and rnn['steps'], 'd'):>10}"
            f"{fmt(peer and peer['steps'], 'd'):>10}{fmt(rnn and rnn['train_tokens_per_s'], ',.0f'):>11}"
            f"{fmt(peer and peer['train_tokens_per_s'], ',.0f'):>10}"
        )
    return "\n".join(lines)


def plot(results: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(results), figsize=(5 * len(results), 4), squeeze=False)
    for ax, res in zip(axes[0], results):
        for name, style in (("rnnkit", "o-"), ("transformer", "s-")):
            if res.get(name):
                curve = res[name]["curve"]
                label = f"{name} ({res[name]['final_val_loss']:.3f})"
                ax.plot([e["elapsed_s"] for e in curve], [e["val_loss"] for e in curve], style, ms=3, label=label)
        ax.axvline(res["budget_s"], color="grey", ls="--", lw=1, label="budget")
        ax.set(title=f"budget {res['budget_s']} s", xlabel="wall seconds (evaluation included)")
        ax.set_ylabel("validation loss (nats/char)")
        ends = [res[n]["curve"][-1]["elapsed_s"] for n in ("rnnkit", "transformer") if res.get(n)]
        ax.set_xlim(0, 1.04 * max([res["budget_s"], *ends]))
        ax.grid(alpha=0.3)
        ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(
        description=__doc__.splitlines()[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--budgets", type=budgets, default=budgets("90,180,600"), help="seconds (default 90,180,600)")
    p.add_argument("--only", choices=("rnnkit", "transformer", "both"), default="both")
    p.add_argument("--seed", type=int, default=1234, help="seed of both contenders (default 1234)")
    p.add_argument(
        "--data-dir", type=Path, default=None, help="datasets folder (default $RNNKIT_DATA or ../shared/data)"
    )
    p.add_argument("--rnnkit-flags", default="", help='extra `rnnkit train` flags for every budget, e.g. "--lr 2e-3"')
    p.add_argument("--threads", type=int, default=None, help="torch threads for both (default torch's)")
    p.add_argument("--out-dir", type=Path, default=Path("runs") / f"vs-transformer-{time.strftime('%Y%m%d-%H%M%S')}")
    args = p.parse_args(argv)
    data = (args.data_dir or default_data_dir()) / "tinyshakespeare" / "input.txt"
    if not data.is_file():
        print(f"benchmark: no tiny Shakespeare at {data}; pass --data-dir or set RNNKIT_DATA", file=sys.stderr)
        return 2
    if args.threads:
        torch.set_num_threads(args.threads)
    args.out_dir.mkdir(parents=True, exist_ok=True)
    info = machine()
    print(f"machine: {info['cpu']}; {info['cores']} cores, torch {info['torch']} with {info['torch_threads']} threads")
    results = []
    for budget in args.budgets:
        res, rnn = {"budget_s": budget}, None
        if args.only in ("rnnkit", "both"):
            extra = [*RNNKIT_FLAGS.get(budget, []), *shlex.split(args.rnnkit_flags)]
            print(f"\n[{budget} s] rnnkit", flush=True)
            rnn = res["rnnkit"] = run_rnnkit(data, budget, args.out_dir / f"rnnkit-{budget}s", args.seed, extra)
        if args.only in ("transformer", "both"):
            train_ids, val_ids, vocab_size = corpus(data, rnn and rnn["data_config"])
            if rnn is not None and vocab_size != rnn["vocab_size"]:
                raise SystemExit(f"benchmark: expected rnnkit's {rnn['vocab_size']} symbols, got {vocab_size}")
            # rnnkit's evaluation times but its last (the one after the budget); alone, every tenth of it.
            marks = [e["elapsed_s"] for e in rnn["curve"][:-1]] if rnn else [budget * k / 10 for k in range(1, 10)]
            print(
                f"\n[{budget} s] transformer: {len(train_ids):,d} train / {len(val_ids):,d} val chars, "
                f"{vocab_size} symbols; {PeerConfig()}",
                flush=True,
            )
            res["transformer"] = train(train_ids, val_ids, vocab_size, budget, marks, args.seed)
        print(report(budget, res.get("rnnkit"), res.get("transformer")), flush=True)
        results.append(res)
        (args.out_dir / "results.json").write_text(
            json.dumps(
                {
                    "machine": info,
                    "args": vars(args) | {"out_dir": str(args.out_dir), "data": str(data)},
                    "rnnkit_flags": {str(k): v for k, v in RNNKIT_FLAGS.items()},
                    "results": results,
                },
                indent=1,
                default=str,
            )
            + "\n"
        )
    print(summary(results))
    plot(results, args.out_dir / "curves.png")
    print(f"\nwrote {args.out_dir / 'results.json'} and {args.out_dir / 'curves.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
