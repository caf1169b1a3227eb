"""The README's drop-in example runs, and the swapped import trains to the same losses."""

from __future__ import annotations

import importlib.util
import random
import re
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "word_lm_dropin.py"


def load():
    spec = importlib.util.spec_from_file_location("word_lm_dropin", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def text(path: Path, lines: int, seed: int) -> Path:
    rng = random.Random(seed)
    words = [f"w{i}" for i in range(40)]
    path.write_text("\n".join(" ".join(rng.choices(words, k=rng.randint(3, 12))) for _ in range(lines)) + "\n")
    return path


def test_both_imports_train_to_the_same_losses(tmp_path, capsys):
    train, valid = text(tmp_path / "train.txt", 300, 0), text(tmp_path / "valid.txt", 40, 1)
    args = ["--train", str(train), "--valid", str(valid), "--nhid", "16", "--emsize", "16", "--bptt", "10",
            "--batch-size", "4", "--max-batches", "12", "--log-interval", "4", "--dropout", "0",
            "--epochs", "2"]  # fmt: skip
    load().main(args)
    out = capsys.readouterr().out
    rows = re.findall(r"^\s+\d+\s+(\S+)\s+(\d+\.\d+)\s+(\d+\.\d+)$", out, re.M)
    assert len(rows) == 8 and [r[0] for r in rows].count("valid") == 2
    for _, theirs, ours in rows:  # no dropout: the same weights, the same data, the same arithmetic up to rounding
        assert abs(float(theirs) - float(ours)) < 2e-3
    assert "gradient flow (rnnkit.diagnostics.gradient_flow): lstm: gradient" in out
