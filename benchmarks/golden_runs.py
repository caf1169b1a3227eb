"""Bit-for-bit behaviour check: four short deterministic training runs and their logged losses.

    python benchmarks/golden_runs.py --record benchmarks/golden_runs.json   # on the reference commit
    python benchmarks/golden_runs.py --check benchmarks/golden_runs.json    # after a change

A char-level LM (the bundled Alice), a word-level LM (Alice, word tokens), a classifier and a tagger
(generated data, fixed seeds) each train for a few hundred steps through the CLI on one thread. Every
number in every run's metrics.jsonl except the wall-clock ones is compared exactly (as the JSON
text), so any change to data order, initialisation, the recurrence or the optimiser shows up.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
from pathlib import Path

#: Keys whose values depend on the wall clock or the machine, not on the computation.
VOLATILE = {"elapsed_s", "tok_per_s", "tokens_per_s", "step_per_s", "examples_per_s"}

TINY = ["--device", "cpu", "--no-progress", "--seed", "1234"]
FILLER = "the a movie film plot actor scene story was is it this and very quite".split()
DET, NOUN, VERB = ["the", "a", "this", "that"], ["cat", "dog", "bird", "fish", "cow"], ["sees", "eats", "likes"]


def classify_tsv(path: Path, n: int = 600) -> Path:
    rng, lines = random.Random(7), ["text\tlabel"]
    for i in range(n):
        label = ("pos", "neg", "mixed")[i % 3]
        words = [rng.choice(FILLER) for _ in range(rng.randint(3, 9))]
        key = {"pos": "good", "neg": "bad", "mixed": "okay"}[label]
        words.insert(rng.randint(0, len(words)), key)
        lines.append(f"{' '.join(words)}\t{label}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def tag_columns(path: Path, n: int = 300) -> Path:
    rng, blocks = random.Random(11), []
    for _ in range(n):
        words = []
        for _ in range(rng.randint(1, 3)):
            words += [(rng.choice(DET), "DET"), (rng.choice(NOUN), "NOUN"), (rng.choice(VERB), "VERB")]
        words += [(rng.choice(DET), "DET"), (rng.choice(NOUN), "NOUN")]
        blocks.append("\n".join(f"{w}\t{t}" for w, t in words))
    path.write_text("\n\n".join(blocks) + "\n", encoding="utf-8")
    return path


def runs(tmp: Path) -> dict[str, list[str]]:
    alice = Path(__file__).resolve().parents[1] / "src" / "rnnkit" / "corpora" / "alice_in_wonderland.txt"
    lm = ["--hidden-size", "48", "--num-layers", "2", "--embedding-size", "16", "--batch-size", "16"]
    return {
        "char_lm": ["train", str(alice), *lm, "--seq-len", "32", "--max-steps", "300", "--eval-every", "50"],
        "word_lm": [
            "train", str(alice), "--tokens", "word", "--vocab-size", "2000", *lm, "--cell", "gru",
            "--seq-len", "20", "--max-steps", "200", "--eval-every", "50",
        ],
        "classify": [
            "train", "classify", str(classify_tsv(tmp / "cls.tsv")), "--hidden-size", "16", "--embedding-size",
            "16", "--batch-size", "16", "--lr", "0.02", "--max-steps", "300", "--eval-every", "50",
        ],
        "tag": [
            "train", "tag", str(tag_columns(tmp / "tag.tsv")), "--hidden-size", "16", "--embedding-size", "16",
            "--batch-size", "8", "--lr", "0.02", "--max-steps", "300", "--eval-every", "50",
        ],
    }  # fmt: skip


def stable(record: dict) -> dict:
    return {k: v for k, v in record.items() if k not in VOLATILE}


def collect() -> dict[str, list[dict]]:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, argv in runs(Path(tmp)).items():
            run_dir = Path(tmp) / f"run-{name}"
            args = [*argv, *TINY, "--run-dir", str(run_dir)]
            if name.endswith("_lm"):
                args += ["--sample-length", "0"]
            code = [sys.executable, "-c", "import sys, torch; torch.set_num_threads(1); "
                    "from rnnkit.cli.main import main; sys.exit(main(sys.argv[1:]))", *args]  # fmt: skip
            done = subprocess.run(code, env=env, capture_output=True, text=True)
            if done.returncode != 0:
                sys.exit(f"{name}: exit {done.returncode}\n{done.stderr}")
            lines = (run_dir / "metrics.jsonl").read_text().splitlines()
            out[name] = [stable(json.loads(line)) for line in lines if line.strip()]
            print(f"{name}: {len(out[name])} records", file=sys.stderr)
    return out


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument("--record", metavar="FILE")
    g.add_argument("--check", metavar="FILE")
    args = p.parse_args()
    got = collect()
    if args.record:
        Path(args.record).write_text(json.dumps(got, indent=1) + "\n")
        print(f"recorded {sum(map(len, got.values()))} records to {args.record}")
        return 0
    want = json.loads(Path(args.check).read_text())
    bad = 0
    for name in want:
        a, b = want[name], got.get(name, [])
        same = json.dumps(a) == json.dumps(b)
        first = next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), None)
        print(f"{name}: {'identical' if same else 'DIFFERENT'} ({len(b)} records; reference {len(a)})")
        if not same:
            bad += 1
            if first is not None:
                print(f"  first difference at record {first}:\n  want {a[first]}\n  got  {b[first]}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
