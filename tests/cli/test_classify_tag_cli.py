"""``rnnkit train classify`` / ``train tag`` -> ``predict`` / ``tag`` -> ``eval`` end to end on tiny
synthetic tasks a tiny model learns in seconds, exact resume, and every bad input: exit code 2,
one "rnnkit: error:" line on stderr, no traceback, the checkpoint untouched."""

import hashlib
import json
import math
import random
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from ._harness import assert_error, cli, ok

FILLER = "the a movie film plot actor scene story was is it this and very quite".split()
DET, NOUN, VERB = ["the", "a", "this", "that"], ["cat", "dog", "bird", "fish", "cow"], ["sees", "eats", "likes"]
TAG_OF = {**dict.fromkeys(DET, "DET"), **dict.fromkeys(NOUN, "NOUN"), **dict.fromkeys(VERB, "VERB")}
TINY = ["--hidden-size", "8", "--embedding-size", "8", "--num-layers", "1", "--device", "cpu", "--no-progress"]
CLASSIFY = [*TINY, "--batch-size", "16", "--lr", "0.05"]
TAGGER = [*TINY, "--batch-size", "8", "--lr", "0.05", "--max-epochs", "6"]


def digest(run: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(run.iterdir()) if p.is_file()}


def keyword_rows(n: int, seed: int) -> list[tuple[str, str]]:
    """(text, label): "good" -> pos, "bad" -> neg, among 3-7 random filler words."""
    rng, rows = random.Random(seed), []
    for i in range(n):
        label = "pos" if i % 2 == 0 else "neg"
        words = [rng.choice(FILLER) for _ in range(rng.randint(3, 7))]
        words.insert(rng.randint(0, len(words)), "good" if label == "pos" else "bad")
        rows.append((" ".join(words), label))
    return rows


def write_tsv(path: Path, rows, header: str = "text\tlabel") -> Path:
    path.write_text(header + "\n" + "".join(f"{t}\t{lab}\n" for t, lab in rows), encoding="utf-8")
    return path


def conllu_line(i, form: str, upos: str = "_") -> str:
    return "\t".join([str(i), form, form, upos, "_", "_", "_", "_", "_", "_"]) + "\n"


def write_conllu(path: Path, sentences: list[list[str]]) -> Path:
    """The first sentence carries comments, a multi-word range "1-2" and an empty node "3.1"."""
    parts = []
    for k, words in enumerate(sentences):
        lines = [f"# sent_id = {k + 1}\n", f"# text = {' '.join(words)}\n"]
        for i, w in enumerate(words, 1):
            if k == 0 and i == 1:
                lines.append(conllu_line("1-2", words[0] + words[1]))
            lines.append(conllu_line(i, w, TAG_OF.get(w, "NOUN")))
            if k == 0 and i == 3:
                lines.append(conllu_line("3.1", "_"))
        parts.append("".join(lines))
    path.write_text("\n".join(parts) + "\n", encoding="utf-8")
    return path


def tag_sentences(n: int, seed: int) -> list[list[str]]:
    rng = random.Random(seed)
    pick = rng.choice
    return [
        [pick(DET), pick(NOUN), pick(VERB)] + ([pick(DET), pick(NOUN)] if rng.random() < 0.7 else []) for _ in range(n)
    ]


# ----- shared runs: each tiny model is trained once -------------------------------------------------
@pytest.fixture(scope="module")
def clf(tmp_path_factory):
    root = tmp_path_factory.mktemp("clf")
    data = write_tsv(root / "reviews.tsv", keyword_rows(200, seed=0))
    run = root / "run"
    code, _, err = cli("train", "classify", data, *CLASSIFY, "--pooling", "max", "--max-epochs", "5", "--run-dir", run)
    assert code == 0, err
    return run, data, err


@pytest.fixture(scope="module")
def tagger(tmp_path_factory):
    root = tmp_path_factory.mktemp("tag")
    data = write_conllu(root / "train.conllu", tag_sentences(80, seed=1))
    run = root / "run"
    code, _, err = cli("train", "tag", data, *TAGGER, "--run-dir", run)
    assert code == 0, err
    return run, data, err


@pytest.fixture(scope="module")
def lm(tmp_path_factory):
    root = tmp_path_factory.mktemp("lm")
    text = root / "text.txt"
    text.write_text("the cat sat on the mat and the dog ran to see her\n" * 20, encoding="utf-8")
    run = root / "run"
    args = ["--max-steps", "2", "--hidden-size", "8", "--num-layers", "1", "--batch-size", "2", "--seq-len", "8"]
    code, _, err = cli("train", text, *args, "--sample-length", "0", "--no-progress", "--run-dir", run)
    return code, err, run, text


# ----- classification ---------------------------------------------------------------------------
def test_classify_train_predict_eval(clf, tmp_path):
    run, _, err = clf
    for name in ("best.safetensors", "latest.safetensors", "config.json", "metrics.jsonl", "confusion_test.png"):
        assert (run / name).is_file(), name
    assert "the test split" in err and "macro-F1" in err and "true \\ pred" in err
    assert (run / "confusion_test.png").read_bytes().startswith(b"\x89PNG")

    out = ok("predict", run, "the movie was good", "a bad plot")
    assert [line.split("\t")[0] for line in out.splitlines()] == ["pos", "neg"]
    label, p, text = out.splitlines()[0].split("\t")
    assert 0.5 < float(p) <= 1.0 and text == "the movie was good"
    out = ok("predict", run / "best.safetensors", "--top", "2", stdin="very good film\nthe story is bad\n")
    rows = [line.split("\t") for line in out.splitlines()]
    assert [(r[0], r[2], r[4]) for r in rows] == [("pos", "neg", "very good film"), ("neg", "pos", "the story is bad")]
    assert all(abs(float(r[1]) + float(r[3]) - 1) < 1e-3 and float(r[1]) >= float(r[3]) for r in rows)
    records = [json.loads(line) for line in ok("predict", run, "--json", "--top", "2", "good", "bad").splitlines()]
    assert [r["text"] for r in records] == ["good", "bad"]
    assert [[t["label"] for t in r["top"]] for r in records] == [["pos", "neg"], ["neg", "pos"]]

    out = ok("eval", run)
    assert "the test split" in out and "accuracy" in out and "macro-F1" in out and "true \\ pred" in out
    result = json.loads(ok("eval", run, "--json"))
    assert result["accuracy"] >= 0.9 and result["examples"] == 20 and set(result["per_class"]) == {"neg", "pos"}
    fresh = write_tsv(tmp_path / "fresh.tsv", keyword_rows(40, seed=99))
    png = tmp_path / "heat.png"
    result = json.loads(ok("eval", run, "--data", fresh, "--json", "--confusion", png))
    assert result["accuracy"] >= 0.9 and result["macro_f1"] >= 0.9 and result["examples"] == 40
    assert png.read_bytes().startswith(b"\x89PNG")
    assert result["confusion"] and sum(map(sum, result["confusion"])) == 40
    ok("eval", run, "--data", fresh)
    assert (run / "confusion_fresh.png").read_bytes().startswith(b"\x89PNG")


def test_classify_class_files_directory_and_regression(tmp_path):
    rows = keyword_rows(120, seed=3)
    for label in ("pos", "neg"):
        (tmp_path / f"reviews.{label}").write_text("".join(t + "\n" for t, lab in rows if lab == label))
    run = tmp_path / "files"
    flags = ["--bidirectional", "--pooling", "max", "--class-weights", "balanced", "--max-steps", "30"]
    ok("train", "classify", tmp_path / "reviews.pos", tmp_path / "reviews.neg", *CLASSIFY, *flags, "--run-dir", run)
    assert json.loads(ok("eval", run, "--json"))["accuracy"] >= 0.9
    assert ok("predict", run, "so good").split("\t")[0] == "pos"

    names = tmp_path / "names"
    names.mkdir()
    (names / "Short.txt").write_text("".join("ab"[i % 2] * (1 + i % 3) + "\n" for i in range(30)))
    (names / "Long.txt").write_text("".join("xy"[i % 2] * (6 + i % 3) + "\n" for i in range(30)))
    (names / "README.md").write_text("not a class\n")
    run = tmp_path / "chars"
    ok("train", "classify", names, "--tokens", "char", *CLASSIFY, "--max-steps", "20", "--run-dir", run)
    assert (run / "confusion_test.png").is_file()
    assert json.loads((run / "config.json").read_text())["data"]["tokens"] == "char"
    rows = [line.split("\t") for line in ok("predict", run, "--top", "2", "abab", "xyxyxyx").splitlines()]
    assert [(r[0], r[2], r[4]) for r in rows] == [("Short", "Long", "abab"), ("Long", "Short", "xyxyxyx")]

    rng = random.Random(5)
    scored = [(" ".join(rng.choice(FILLER) for _ in range(3)) + " good" * k, str(k)) for k in (0, 1, 2) * 20]
    data = write_tsv(tmp_path / "scores.tsv", scored, header="text\tscore")
    run = tmp_path / "regress"
    flags = ["--label-column", "score", "--task", "regress", "--pooling", "mean", "--max-steps", "20"]
    ok("train", "classify", data, *CLASSIFY, *flags, "--run-dir", run)
    value, text = ok("predict", run, "good good").strip().split("\t")
    assert math.isfinite(float(value)) and text == "good good"
    result = json.loads(ok("eval", run, "--json"))
    assert set(result) >= {"mse", "rmse", "examples"} and result["mse"] >= 0
    assert "mean squared error" in ok("eval", run)


def test_resume_continues_exactly(clf, tmp_path):
    _, data, _ = clf
    whole, split = tmp_path / "whole", tmp_path / "split"
    ok("train", "classify", data, *CLASSIFY, "--max-steps", "16", "--run-dir", whole)
    ok("train", "classify", data, *CLASSIFY, "--max-steps", "8", "--run-dir", split)
    assert json.loads((split / "latest.json").read_text())["meta"]["step"] == 8
    code, _, err = cli("train", "classify", "--resume", split, "--max-steps", "16", "--no-progress")
    assert code == 0, err
    assert "resuming" in err and "at step 8" in err
    assert json.loads((split / "latest.json").read_text())["meta"]["step"] == 16
    records = [json.loads(line) for line in (split / "metrics.jsonl").read_text().splitlines()]
    assert records[-1]["step"] == 16 and [r["step"] for r in records] == sorted(r["step"] for r in records)
    a, b = load_file(whole / "latest.safetensors"), load_file(split / "latest.safetensors")
    assert sorted(a) == sorted(b)
    different = [k for k in a if not torch.equal(a[k], b[k])]
    assert not different, f"resumed run differs from the uninterrupted one in {different}"


# ----- tagging ----------------------------------------------------------------------------------
@pytest.mark.parametrize("char_features", [False, True])
def test_tag_train_tag_eval(tagger, tmp_path, char_features):
    run, data, err = tagger
    if char_features:
        run = tmp_path / "chars"
        flags = ["--char-features", "--char-embedding-size", "4", "--char-hidden-size", "4"]
        err = cli("train", "tag", data, *TAGGER, *flags, "--run-dir", run)[2]
    assert (run / "best.safetensors").is_file(), err
    assert (json.loads((run / "config.json").read_text())["model"]["char_features"]) == char_features
    assert "the test split" in err and "OOV accuracy" in err

    plain = tmp_path / "plain.txt"
    plain.write_text("the cat sees a dog\n\nthis bird eats\n")
    expected = [
        "".join(f"{w}\t{TAG_OF[w]}\n" for w in s.split()) + "\n" for s in ("the cat sees a dog", "this bird eats")
    ]
    assert ok("tag", run, plain) == "".join(expected)
    assert ok("tag", run, stdin="\tthe cow likes that fish\n").split("\n")[2] == "likes\tVERB"  # text, not columns
    assert ok("tag", run, "--output", "conllu", plain).splitlines()[2].split("\t")[1:4] == ["sees", "_", "VERB"]

    conllu = ok("tag", run, data)
    given = data.read_text().splitlines()
    assert len(conllu.splitlines()) == len(given)  # the input comes back whole, tags filled in
    kept = [a for a, b in zip(conllu.splitlines(), given) if a.startswith("#") or not a.split("\t")[0].isdigit()]
    assert kept == [b for b in given if b.startswith("#") or not b.split("\t")[0].isdigit()] and len(kept) > 80
    token_lines = [line for line in conllu.splitlines() if line and line.split("\t")[0].isdigit()]
    assert all(len(line.split("\t")) == 10 for line in token_lines)
    words = [w for s in tag_sentences(80, seed=1) for w in s]
    assert len(token_lines) == len(words)
    assert [line.split("\t")[1] for line in token_lines] == words
    correct = sum(line.split("\t")[3] == TAG_OF[w] for line, w in zip(token_lines, words))
    assert correct / len(words) >= 0.9
    columns = tmp_path / "tokens.txt"
    columns.write_text("a\ndog\neats\n\nthe\ncat\n")
    out = ok("tag", run, columns, "--input", "columns")
    assert out == "a\tDET\ndog\tNOUN\neats\tVERB\n\nthe\tDET\ncat\tNOUN\n\n"
    out = ok("tag", run, columns, "--input", "columns", "--output", "conllu")
    assert out.splitlines()[0].split("\t") == ["1", "a", "_", "DET", "_", "_", "_", "_", "_", "_"]

    result = json.loads(ok("eval", run, "--json"))
    assert {"accuracy", "macro_f1", "per_tag", "oov_accuracy"} <= set(result)
    assert result["accuracy"] >= 0.9 and set(result["per_tag"]) == {"DET", "NOUN", "VERB"}
    unseen = write_conllu(tmp_path / "unseen.conllu", [["the", "wolf", "sees", "a", "lamb"], ["a", "cat", "eats"]])
    result = json.loads(ok("eval", run, "--data", unseen, "--json"))
    assert result["oov_tokens"] == 2 and result["oov_accuracy"] is not None and result["tokens"] == 8
    out = ok("eval", run, "--data", unseen)
    assert "OOV accuracy" in out and "(2 tokens)" in out


# ----- the language model is still trained by "rnnkit train FILE" --------------------------------
def test_language_model_training_unchanged(lm):
    code, err, run, text = lm
    assert code == 0, err
    assert (run / "latest.safetensors").is_file() and (run / "best.safetensors").is_file()
    assert json.loads((run / "latest.json").read_text())["meta"]["model"]["kind"] == "language_model"
    assert "perplexity" in ok("eval", run)
    assert ok("sample", run, "--length", "10", "--seed", "1")
    classify = text.parent / "classify"  # a file literally named "classify" goes through as ./classify
    classify.write_text(text.read_text())
    args = ["--max-steps", "1", "--hidden-size", "8", "--num-layers", "1", "--batch-size", "2", "--seq-len", "8"]
    ok("train", classify, *args, "--sample-length", "0", "--no-progress", "--run-dir", text.parent / "run2")
    assert (text.parent / "run2" / "latest.safetensors").is_file()


# ----- bad input --------------------------------------------------------------------------------
def test_bad_training_data(tmp_path):
    def train(name: str, content: str, *flags):
        path, run = tmp_path / name, tmp_path / f"run-{name}"
        path.write_text(content)
        result = cli("train", "classify", path, *CLASSIFY, "--max-steps", "1", "--run-dir", run, *flags)
        assert not run.exists()  # nothing written for bad data
        return result

    assert_error(train("empty.tsv", ""), "empty.tsv", "no examples")
    assert_error(
        train("cols.tsv", "text\tlabel\ngood\tpos\nbad\tneg\n", "--label-column", "stars"), "no column 'stars'"
    )
    assert_error(train("nolabel.tsv", "text\tlabel\ngood one\tpos\nno label here\n"), "nolabel.tsv:3", "no label")
    assert_error(train("blank.tsv", "text\tlabel\ngood one\tpos\nbad one\t \n"), "blank.tsv:3", "empty label")
    assert_error(train("one.tsv", "text\tlabel\ngood\tpos\nfine\tpos\nnice\tpos\n"), "single class 'pos'")
    bad = tmp_path / "bad.conllu"
    bad.write_text("# a comment\n" + conllu_line(1, "the", "DET") + "2\tcat\tcat\tNOUN\n")
    line = assert_error(cli("train", "tag", bad, *TAGGER, "--run-dir", tmp_path / "t"), "bad.conllu:3")
    assert "expected 10 tab-separated CoNLL-U fields, got 4" in line
    assert not (tmp_path / "t" / "latest.safetensors").exists()


def test_bad_inference_input_leaves_checkpoints_alone(clf, tagger, lm, tmp_path):
    clf_run, tag_run, lm_run = clf[0], tagger[0], lm[2]
    before = {run: digest(run) for run in (clf_run, tag_run, lm_run)}
    unknown = write_tsv(tmp_path / "unknown.tsv", [("a good film", "pos"), ("so so", "meh")])
    assert_error(cli("eval", clf_run, "--data", unknown), "unknown.tsv:3", "'meh' not seen in training")
    assert_error(cli("predict", clf_run, stdin=""), "expected texts")
    assert_error(cli("predict", clf_run, "good", "  "), "text 2 is empty")
    assert ok("predict", clf_run, stdin="good\n\nbad\n").count("\n") == 2  # blank stdin lines are skipped
    blank = tmp_path / "blank.txt"
    blank.write_text("\n   \n\n")
    assert_error(cli("tag", tag_run, blank), "no sentences")
    assert_error(cli("tag", tag_run, stdin=""), "<stdin> is empty")
    assert_error(cli("tag", tag_run, "--input", "conllu", stdin="1\tthe\n"), "<stdin>:1", "got 2")
    bad = tmp_path / "bad.conllu"
    bad.write_text(conllu_line(1, "the", "DET") + conllu_line(2, "cat", "NOUN") + "3\tsees\n")
    for argv in (("tag", tag_run, bad), ("eval", tag_run, "--data", bad)):
        assert_error(cli(*argv), "bad.conllu:3", "10 tab-separated CoNLL-U fields")
    tag_unseen = write_conllu(tmp_path / "unseen_tag.conllu", [["the", "cat", "sees"]])
    tag_unseen.write_text(tag_unseen.read_text().replace("\tVERB\t", "\tADV\t"))
    assert_error(cli("eval", tag_run, "--data", tag_unseen), "tag 'ADV' not seen in training")
    assert_error(cli("predict", lm_run, "good"), "language_model", "expected a sequence_classifier")
    assert_error(cli("tag", lm_run, blank), "language_model", "expected a sequence_tagger")
    assert_error(cli("tag", clf_run, blank), "sequence_classifier", "expected a sequence_tagger")
    assert_error(cli("predict", tag_run, "the cat"), "sequence_tagger", "expected a sequence_classifier")
    assert before == {run: digest(run) for run in (clf_run, tag_run, lm_run)}


def test_bad_resume(clf, tagger, lm):
    clf_run, data = clf[0], clf[1]
    before = digest(clf_run)
    resume = ["train", "classify", "--resume", clf_run, "--max-steps", "99", "--no-progress"]
    assert_error(cli(*resume, "--tokens", "char"), "--resume", "got data.tokens")
    assert_error(cli(*resume, "--hidden-size", "16"), "got model.hidden_size")
    assert_error(cli(*resume, data), "expected only training options", "got data")
    assert_error(
        cli("train", "tag", "--resume", clf_run, "--no-progress"), "holds a classify run", "`rnnkit train classify"
    )
    assert_error(cli("train", "classify", "--resume", lm[2], "--no-progress"), "holds a language-model run; resume it")
    assert_error(cli("train", "classify", data, "--run-dir", clf_run, "--no-progress"), "already holds a checkpoint")
    assert before == digest(clf_run)
