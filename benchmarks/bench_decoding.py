"""Decoding speed of the translator: batched greedy and beam search against one sentence at a time.

    python benchmarks/bench_decoding.py --run runs/m30k           # a trained run on its test sources
    python benchmarks/bench_decoding.py                           # a random 1x256 model, random sentences

With ``--run`` the sentences are the run's stored test split (Multi30k: 1,000 sentences); without,
a randomly initialised 1x256 bidirectional-LSTM encoder / 1x256 LSTM decoder with additive attention
and 8,000-token vocabularies decodes 256 random sentences of 8-20 tokens (their ``<eos>`` logit is
lowered so every output runs to its maximum length: the worst case). Each way is timed in the same
process, interleaved over ``--rounds``; the median is printed with the batched / one-at-a-time ratio.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch


def random_setup(n: int, seed: int = 0):
    from rnnkit.layers import RecurrentConfig
    from rnnkit.models import Translator, TranslatorConfig

    torch.manual_seed(seed)
    cfg = TranslatorConfig(
        source_vocab_size=8000,
        target_vocab_size=8000,
        embedding_size=256,
        dropout=0.0,
        encoder=RecurrentConfig("lstm", hidden_size=256, bidirectional=True),
        decoder=RecurrentConfig("lstm", hidden_size=256),
    )
    model = Translator(cfg).eval()
    with torch.no_grad():
        model.head.bias[cfg.eos_id] = -1e4  # never ends: every output runs to its limit
    g = torch.Generator().manual_seed(seed)
    sentences = [
        torch.randint(4, 8000, (int(torch.randint(8, 21, (1,), generator=g)),), generator=g).tolist() for _ in range(n)
    ]
    return model, sentences, cfg.bos_id, cfg.eos_id


def run_setup(run: str):
    import rnnkit
    from rnnkit.config import override
    from rnnkit.tasks.translate.config import TranslateDataConfig
    from rnnkit.tasks.translate.prepare import prepare_translation

    loaded = rnnkit.load(run)
    stored = loaded.meta["config"]
    data_cfg = override(TranslateDataConfig(), stored["data"], "checkpoint [data]")
    pairs = prepare_translation(data_cfg, stored["source"], loaded.meta).pairs["test"]
    cfg = loaded.model.config
    return loaded.model, loaded.encode(pairs.sources), cfg.bos_id, cfg.eos_id


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--run", help="a trained translation run (default: a random model)")
    p.add_argument("--sentences", type=int, default=256, help="random sentences without --run (default 256)")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--rounds", type=int, default=3)
    args = p.parse_args(argv)
    from rnnkit.tasks.translate.training import translate_ids

    model, sentences, bos, eos = run_setup(args.run) if args.run else random_setup(args.sentences)
    n = len(sentences)
    ways = {
        "greedy, batched": dict(batch_size=args.batch_size, beam=1),
        "greedy, one at a time": dict(batch_size=1, beam=1),
        "beam 5, batched": dict(batch_size=args.batch_size, beam=5),
        "beam 5, one at a time": dict(batch_size=1, beam=5),
    }
    times: dict[str, list[float]] = {k: [] for k in ways}
    outputs = {}
    for _ in range(args.rounds):
        for name, kw in ways.items():
            start = time.perf_counter()
            outputs[name] = translate_ids(model, sentences, kw["batch_size"], "cpu", bos, eos, beam=kw["beam"])
            times[name].append(time.perf_counter() - start)
    print(f"{n} sentences, {torch.get_num_threads()} threads, median of {args.rounds} rounds")
    for name in ways:
        t = statistics.median(times[name])
        print(f"  {name:24s} {n / t:8.1f} sentences/s")
    for kind in ("greedy", "beam 5"):
        ratio = statistics.median(times[f"{kind}, one at a time"]) / statistics.median(times[f"{kind}, batched"])
        same = all(
            a[0].tokens == b[0].tokens for a, b in zip(outputs[f"{kind}, batched"], outputs[f"{kind}, one at a time"])
        )
        print(f"{kind}: batched is {ratio:.1f}x one sentence at a time; identical outputs: {same}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
