"""``--init-from RUN`` for classifiers and taggers: RUN's vocabulary and labels / tags (issue 13, item 3)."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
import torch

from rnnkit.checkpoint import load_checkpoint, read_meta
from tests.cli._harness import assert_error, cli, ok
from tests.cli._runs import one_thread

SMALL = ("--hidden-size", 8, "--embedding-size", 8, "--batch-size", 8, "--device", "cpu", "--no-progress")
KEYS = {"pos": "good", "neg": "bad"}
FILLER = "the a movie film plot was is it this and".split()
DET, NOUN, VERB = ["the", "a"], ["cat", "dog", "fish"], ["sees", "eats"]


def reviews(path: Path, n: int, seed: int, labels=("pos", "neg")) -> Path:
    rng, lines = random.Random(seed), ["text\tlabel"]
    for i in range(n):
        label = labels[i % len(labels)]
        words = [rng.choice(FILLER) for _ in range(rng.randint(2, 6))]
        words.insert(rng.randint(0, len(words)), KEYS.get(label, "meh"))
        lines.append(f"{' '.join(words)}\t{label}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def sentences(path: Path, n: int, seed: int, nouns=NOUN, extra: str = "") -> Path:
    rng, blocks = random.Random(seed), []
    for _ in range(n):
        words = [(rng.choice(DET), "DET"), (rng.choice(nouns), "NOUN"), (rng.choice(VERB), "VERB")]
        blocks.append("\n".join(f"{w}\t{t}" for w, t in words))
    path.write_text("\n\n".join(blocks) + "\n" + extra, encoding="utf-8")
    return path


def trained(verb: str, data: Path, run: Path, *more) -> Path:
    with one_thread():
        ok("train", verb, data, "--run-dir", run, "--max-steps", 20, "--eval-every", 10, *SMALL, *more)
    return run


def same_weights(a: Path, b: Path) -> bool:
    sa, sb = load_checkpoint(a).model_state, load_checkpoint(b).model_state
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


@pytest.fixture(scope="module")
def classifier(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("classify")
    return trained("classify", reviews(root / "old.tsv", 200, seed=1), root / "run", "--lr", 0.02)


@pytest.fixture(scope="module")
def tagger(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("tag")
    return trained("tag", sentences(root / "old.tsv", 120, seed=1), root / "run", "--lr", 0.02, "--char-features")


def test_a_classifier_fine_tunes_with_run_s_vocabulary_and_labels(classifier, tmp_path):
    new = reviews(tmp_path / "new.tsv", 60, seed=2)
    with new.open("a") as f:
        f.write("a zebra movie\tneg\n")  # a word RUN lacks: <unk>
    with one_thread():
        code, _, err = cli(
            "train", "classify", new, "--init-from", classifier, "--run-dir", tmp_path / "t", "--max-steps", 4,
            "--split", "0.9,0.1,0", "--dropout", 0.2, *SMALL,
        )  # fmt: skip
    assert code == 0, err
    assert "init-from: 1 of the " in err and "are not in the checkpoint's vocabulary and read as <unk>" in err
    run_meta, meta = read_meta(classifier / "best.safetensors"), read_meta(tmp_path / "t" / "best.safetensors")
    assert (meta["vocab"], meta["labels"]) == (run_meta["vocab"], run_meta["labels"])
    config = json.loads((tmp_path / "t" / "config.json").read_text())
    assert config["init_from"]["step"] == run_meta["step"] and config["model"]["dropout"] == 0.2
    assert config["data"]["split"] == [0.9, 0.1, 0] and config["train"]["max_steps"] == 4


def test_labels_run_lacks_are_refused_listed(classifier, tmp_path):
    new = reviews(tmp_path / "new.tsv", 30, seed=2, labels=("pos", "neg", "meh", "meh"))
    line = assert_error(cli("train", "classify", new, "--init-from", classifier, "--split", "0.9,0.1,0", *SMALL))
    assert line == (
        f"rnnkit: error: init-from: expected only the checkpoint's 2 labels ['neg', 'pos'], got 1 other in {new}: "
        "'meh' (13x); fine-tune on data with the checkpoint's labels only, or train a new model on it (without "
        "--init-from)"
    )


def test_a_classifier_refuses_architecture_and_vocabulary_changes(classifier, tmp_path):
    new = reviews(tmp_path / "new.tsv", 30, seed=2)
    best = classifier / "best.safetensors"
    assert assert_error(cli("train", "classify", new, "--init-from", classifier, "--bidirectional", *SMALL)) == (
        f"rnnkit: error: init-from: the model is the checkpoint's ({best}); expected no change to its architecture "
        "(only --dropout, --backend, --variational, --recurrent-dropout, "
        "--weight-drop, --zoneout and --zoneout-cell may be given), got --bidirectional on (it has off)"
    )
    assert assert_error(cli("train", "classify", new, "--init-from", classifier, "--tokens", "char", *SMALL)) == (
        f"rnnkit: error: init-from: the vocabulary is the checkpoint's ({best}); expected none of the data settings "
        "that define it (--tokens, --lowercase, --min-freq, --max-vocab) to change, got --tokens char (it has word)"
    )
    line = assert_error(cli("train", "tag", new, "--init-from", classifier))
    assert line.endswith(f"a classify run; fine-tune it with `rnnkit train classify DATA --init-from {classifier}`")


def test_a_tagger_fine_tunes_and_its_resume_needs_run_no_more(tagger, tmp_path):
    new = sentences(tmp_path / "new.tsv", 40, seed=2, nouns=NOUN + ["cow"])
    tuned = tmp_path / "t"
    with one_thread():
        code, _, err = cli("train", "tag", new, "--init-from", tagger, "--run-dir", tuned, "--max-steps", 2, *SMALL)
    assert code == 0, err
    assert "are not in the checkpoint's vocabulary and read as <unk>" in err
    run_meta, meta = read_meta(tagger / "best.safetensors"), read_meta(tuned / "best.safetensors")
    assert all(meta[k] == run_meta[k] for k in ("vocab", "chars", "tags"))
    assert meta["model"]["config"]["char_features"] is True
    moved = tagger.with_name("moved")
    tagger.rename(moved)
    try:
        with one_thread():
            code, _, err = cli("train", "tag", "--resume", tuned, "--max-steps", 4, "--no-progress")
        assert code == 0, err
        assert read_meta(tuned / "latest.safetensors")["step"] == 4
        assert "the test split" in ok("eval", tuned)
    finally:
        moved.rename(tagger)
    assert not same_weights(tagger / "best.safetensors", tuned / "latest.safetensors")


def test_tags_run_lacks_are_refused_listed(tagger, tmp_path):
    new = sentences(tmp_path / "new.tsv", 20, seed=2, extra="\nwow\tINTJ\n")
    line = assert_error(cli("train", "tag", new, "--init-from", tagger, "--split", "0.9,0.1,0", *SMALL))
    assert line == (
        f"rnnkit: error: init-from: expected only the checkpoint's 3 tags ['DET', 'NOUN', 'VERB'], got 1 other in "
        f"{new}: 'INTJ' (1x); fine-tune on data with the checkpoint's tags only, or train a new model on it (without "
        "--init-from)"
    )
