"""Checkpoints written by rnnkit 0.1.0 (before the restructuring) still load, sample, evaluate,
predict, tag and resume, with exactly the output the old code gave (tests/fixtures/v0/expected.json;
tests/fixtures/make_v0_checkpoints.py says how it was made). One value changed deliberately since:
the tagger's resume (dropout 0.33) draws its masks with rnnkit.layers.dropout since issue 14, so
"resume_tag" is what the old checkpoint continues to under the new masks."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.cli._harness import ok
from tests.fixtures.make_v0_checkpoints import DATA_ROOT, weights_digest  # where the old runs' data lived

V0 = Path(__file__).resolve().parents[1] / "fixtures" / "v0"
EXPECTED = json.loads((V0 / "expected.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def data_root() -> Path:
    """The old runs' training data, recreated at its fixed path from the fixture's copies."""
    DATA_ROOT.mkdir(parents=True, exist_ok=True)
    for name in ("text.txt", "cls.tsv", "tag.tsv"):
        shutil.copy(V0 / name, DATA_ROOT / name)
    (DATA_ROOT / "sentences.txt").write_text("the cat sees a dog\na bird eats\n", encoding="utf-8")
    return DATA_ROOT


def test_sample_char_and_word_models():
    assert ok("sample", V0 / "char_lm", "--prime", "Alice", "--length", "40", "--seed", "3") == EXPECTED["sample_char"]
    out = ok("sample", V0 / "word_lm", "--prime", "Alice was", "--length", "10", "--seed", "3")
    assert out == EXPECTED["sample_word"]


def test_eval_char_model(data_root):
    assert ok("eval", V0 / "char_lm", "--data", data_root / "text.txt", "--json") == EXPECTED["eval_char"]


def test_predict_with_a_classifier():
    out = ok("predict", V0 / "classify", "good movie one", "bad movie two", "--json")
    assert out == EXPECTED["predict"]


def test_tag_with_a_tagger(data_root):
    assert ok("tag", V0 / "tag", data_root / "sentences.txt") == EXPECTED["tag"]


@pytest.mark.parametrize("name", ["char_lm", "word_lm", "classify", "tag"])
def test_resume_continues_exactly(name, data_root, tmp_path):
    run = tmp_path / name
    shutil.copytree(V0 / name, run)
    verb = ["classify"] if name == "classify" else ["tag"] if name == "tag" else []
    lm_only = ["--sample-length", "0"] if name.endswith("lm") else []
    ok("train", *verb, "--resume", run, "--max-steps", "6", "--no-progress", *lm_only)
    records = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert [r.get("train_loss", r.get("val_loss")) for r in records] == EXPECTED[f"resume_{name}"]
    assert weights_digest(run / "latest.safetensors") == EXPECTED[f"resume_{name}_weights"]
