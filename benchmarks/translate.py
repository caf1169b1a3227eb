"""Translation quality bars (issue 15): Multi30k de->en and Tatoeba eng<->fra, through the real CLI.

    python benchmarks/translate.py multi30k                      # 60 minutes, additive attention
    python benchmarks/translate.py multi30k --attention none     # the plain encoder-decoder, same budget
    python benchmarks/translate.py multi30k --minutes 120        # the curve to 2 hours
    python benchmarks/translate.py tatoeba --direction eng-fra   # the PyTorch tutorial's filtered subset
    python benchmarks/translate.py tatoeba --direction fra-eng --subset len15
    python benchmarks/translate.py multi30k --minutes 1 -- --max-steps 20   # smoke test (flags after -- go to train)

Data (``--data`` or ``$RNNKIT_DATA``, default ``../shared/data``): ``multi30k/`` (train 29,000 /
val 1,014 / test_2016_flickr 1,000, raw text) and ``tatoeba_eng_fra/eng-fra.txt.gz`` (142,787 pairs).

Multi30k: train on train, validate (greedy BLEU on the whole val set picks the best checkpoint) on
val, report test_2016_flickr with sacreBLEU's default signature, beam 5 and greedy. sacreBLEU's
built-in Multi30k test set has no de->en pair, so the reference file is ours (the raw English test
file); the signature is printed. Bar: test BLEU >= 33 within 60 minutes of CPU training.

Tatoeba: ``tutorial`` = the PyTorch seq2seq tutorial's filter (after its normalisation -- lower case,
ASCII, punctuation split, non-letters to spaces -- both sides under 10 words and the English side
starting with "i am", "he is", "she is", "you are", "we are", "they are" or their contractions);
``len15`` = every pair with both sides at most 15 words. Either is cut by a fixed seed into 85.5%
train, 4.5% validation (model selection) and 10% test (reported): the issue's 90/10 with a
twentieth of the 90 held out for validation. The filtered table goes to ``$RNNKIT_CACHE/data``.
Prints the BLEU against wall time (greedy, validation) from the run's metrics.jsonl.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import re
import subprocess
import sys
import time
import unicodedata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BAR = (33.0, 60.0)  # Multi30k test BLEU, minutes
PREFIXES = ("i am ", "i m ", "he is", "he s ", "she is", "she s ", "you are", "you re ", "we are", "we re ")
PREFIXES += ("they are", "they re ")

#: The model and training every setup shares (flags of `rnnkit train translate`).
MODEL = ["--cell", "lstm", "--hidden-size", "256", "--embedding-size", "256", "--attention", "additive"]
MODEL += ["--dropout", "0.3", "--label-smoothing", "0.1", "--tokens", "subword", "--subword-vocab", "8000"]
TRAIN = ["--batch-size", "64", "--optimizer", "adamw", "--lr", "2e-3", "--lr-schedule", "cosine", "--warmup", "200"]
TRAIN += ["--clip", "1.0", "--eval-every", "500", "--seed", "1234", "--no-progress"]


def tutorial_normalise(s: str) -> str:
    """The PyTorch seq2seq tutorial's normalizeString (used for its filter only; the pairs stay raw)."""
    s = "".join(c for c in unicodedata.normalize("NFD", s.lower().strip()) if unicodedata.category(c) != "Mn")
    s = re.sub(r"([.!?])", r" \1", s)
    return re.sub(r"[^a-zA-Z!?]+", r" ", s).strip()


def tatoeba_table(data: Path, subset: str) -> Path:
    """The filtered eng<TAB>fra table in the cache (built once)."""
    cache = Path(os.environ.get("RNNKIT_CACHE", Path.home() / ".cache" / "rnnkit")) / "data"
    out = cache / f"tatoeba-eng-fra-{subset}.tsv"
    if out.is_file():
        return out
    rows = []
    with gzip.open(data / "tatoeba_eng_fra" / "eng-fra.txt.gz", "rt", encoding="utf-8") as f:
        for line in f:
            eng, fra = line.rstrip("\n").split("\t")[:2]
            if subset == "tutorial":
                e, r = tutorial_normalise(eng), tutorial_normalise(fra)
                keep = len(e.split()) < 10 and len(r.split()) < 10 and e.startswith(PREFIXES)
            else:
                keep = len(eng.split()) <= 15 and len(fra.split()) <= 15
            if keep:
                rows.append(f"{eng}\t{fra}\n")
    cache.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tmp")
    tmp.write_text("".join(rows), encoding="utf-8")
    os.replace(tmp, out)
    return out


def setup(args, data: Path) -> tuple[list[str], str]:
    if args.corpus == "multi30k":
        m = data / "multi30k"
        files = ["--source", m / "train.de.gz", "--target", m / "train.en.gz", "--valid-source", m / "val.de.gz"]
        files += ["--valid-target", m / "val.en.gz", "--test-source", m / "test_2016_flickr.de.gz"]
        files += ["--test-target", m / "test_2016_flickr.en.gz", "--bleu-sentences", "1014"]
        return [str(f) for f in files], "multi30k de->en, test_2016_flickr"
    table = tatoeba_table(data, args.subset)
    n = sum(1 for _ in table.open(encoding="utf-8"))
    columns = ["--source-column", "0", "--target-column", "1"]
    if args.direction == "fra-eng":
        columns = ["--source-column", "1", "--target-column", "0"]
    split = ["--split", "0.855,0.045,0.1", "--bleu-sentences", "1000"]
    return [str(table), *columns, *split], f"tatoeba {args.direction} ({args.subset}: {n:,} pairs), seeded 10% test"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("corpus", choices=["multi30k", "tatoeba"])
    p.add_argument("--direction", choices=["eng-fra", "fra-eng"], default="eng-fra", help="tatoeba only")
    p.add_argument("--subset", choices=["tutorial", "len15"], default="tutorial", help="tatoeba only")
    p.add_argument("--attention", choices=["none", "additive", "dot", "general"], default="additive")
    p.add_argument("--minutes", type=float, default=BAR[1], help=f"training budget (default {BAR[1]:g})")
    p.add_argument("--data", help="the shared data directory")
    p.add_argument("--run-dir", help="default runs/bench-translate-<corpus>-<time>")
    args, extra = p.parse_known_args(argv)
    extra = [a for a in extra if a != "--"]
    data = Path(args.data or os.environ.get("RNNKIT_DATA") or ROOT.parent / "shared" / "data")
    files, what = setup(args, data)
    name = f"bench-translate-{args.corpus}-{args.attention}-{time.strftime('%Y%m%d-%H%M%S')}"
    run_dir = Path(args.run_dir or ROOT / "runs" / name)
    model = [*MODEL[: MODEL.index("--attention") + 1], args.attention, *MODEL[MODEL.index("--attention") + 2 :]]
    rnnkit = [sys.executable, "-m", "rnnkit.cli.main"]
    cmd = [*rnnkit, "train", "translate", *files, *model, *TRAIN, "--max-minutes", str(args.minutes)]
    cmd += ["--run-dir", str(run_dir), *extra]
    print("$ rnnkit " + " ".join(cmd[3:]), flush=True)
    subprocess.run(cmd, check=True)
    print("\nvalidation BLEU (greedy) against wall time")
    for line in (run_dir / "metrics.jsonl").read_text().splitlines():
        r = json.loads(line)
        if r["kind"] == "eval" and "val_bleu" in r:
            print(
                f"  step {r['step']:6d}  {r['elapsed_s'] / 60:6.1f} min  "
                f"BLEU {r['val_bleu']:6.2f}  loss {r['val_loss']:.4f}"
            )
    results = {}
    for beam in (1, 5):
        out = subprocess.run(
            [*rnnkit, "eval", str(run_dir), "--beam", str(beam), "--json"], check=True, capture_output=True, text=True
        )
        results[beam] = json.loads(out.stdout)
        r = results[beam]
        print(
            f"{what}: {'greedy' if beam == 1 else 'beam 5'}: BLEU {r['bleu']:.2f}, chrF {r['chrf']:.2f}, "
            f"perplexity {r['perplexity']:.2f}"
        )
    print(f"sacreBLEU signature: {results[5]['bleu_signature']}")
    if args.corpus == "multi30k" and args.minutes <= BAR[1]:
        ok = results[5]["bleu"] >= BAR[0]
        print(
            f"bar: test BLEU >= {BAR[0]:g} within {BAR[1]:g} minutes: {results[5]['bleu']:.2f}: "
            f"{'PASS' if ok else 'FAIL'}"
        )
    print(f"beam 5 - greedy: {results[5]['bleu'] - results[1]['bleu']:+.2f} BLEU; run {run_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
