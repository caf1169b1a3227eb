"""``rnnkit train translate`` -> ``translate`` -> ``eval`` -> ``rnnkit.load`` end to end on a toy
word-for-word "French" a tiny model learns in seconds; aligned files, subwords, exact resume, and
every bad input: exit code 2, one "rnnkit: error:" line on stderr, no traceback, nothing damaged."""

import gzip
import hashlib
import json
import random
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

import rnnkit

from ._harness import assert_error, cli, ok

LEX = {"le": "the", "un": "a", "chat": "cat", "chien": "dog", "oiseau": "bird", "voit": "sees", "mange": "eats"}
NOUNS, VERBS = ["chat", "chien", "oiseau"], ["voit", "mange"]
TINY = ["--hidden-size", "32", "--embedding-size", "16", "--batch-size", "16", "--lr", "0.01", "--no-progress"]


def pairs(n: int, seed: int) -> list[tuple[str, str]]:
    rng, out = random.Random(seed), []
    for _ in range(n):
        words = [
            rng.choice(["le", "un"]),
            rng.choice(NOUNS),
            rng.choice(VERBS),
            rng.choice(["le", "un"]),
            rng.choice(NOUNS),
        ]
        out.append((" ".join(words) + " .", (" ".join(LEX[w] for w in words) + ".").capitalize()))
    return out


def write_tsv(path: Path, rows) -> Path:
    path.write_text("".join(f"{s}\t{t}\tCC-BY 2.0\n" for s, t in rows), encoding="utf-8")
    return path


def digest(run: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(run.iterdir()) if p.is_file()}


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    base = tmp_path_factory.mktemp("translate")
    data = write_tsv(base / "fra-eng.tsv", pairs(300, seed=0))
    run = base / "run"
    ok("train", "translate", data, "--run-dir", run, "--max-epochs", "8", "--attention", "general", *TINY)
    return data, run


def test_train_translate_eval_and_load(trained, tmp_path):
    data, run = trained
    config = json.loads((run / "config.json").read_text())
    assert config["task"] == "translate" and config["model"]["attention"] == "general"
    out = ok("translate", run, "le chat voit un oiseau .", "un chien mange le chat .", "--beam", "5")
    assert out.splitlines() == ["The cat sees a bird.", "A dog eats the cat."]
    greedy = ok("translate", run, "--beam", "1", stdin="le chien voit le chat .\n\n")
    assert greedy == "The dog sees the cat.\n"
    nbest = ok("translate", run, "le chat voit un oiseau .", "--n-best", "2").splitlines()
    assert nbest[0].startswith("1\t") and nbest[0].endswith("\tThe cat sees a bird.") and nbest[1].startswith("2\t")
    assert float(nbest[0].split("\t")[1]) >= float(nbest[1].split("\t")[1])
    report = ok("eval", run, "--beam", "3")
    assert "the test split (15 pairs, beam 3, alpha 1): BLEU 100.00, chrF 100.00" in report
    assert "nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp" in report
    held_out = write_tsv(tmp_path / "held.tsv", pairs(60, seed=5))
    greedy_bleu = json.loads(ok("eval", run, "--data", held_out, "--beam", "1", "--json"))["bleu"]
    beam_bleu = json.loads(ok("eval", run, "--data", held_out, "--beam", "5", "--json"))["bleu"]
    assert beam_bleu >= greedy_bleu > 90  # beam search never scores below greedy on held-out pairs
    result = json.loads(ok("eval", run, "--data", write_tsv(tmp_path / "new.tsv", pairs(20, seed=9)), "--json"))
    assert result["bleu"] == pytest.approx(100.0) and result["pairs"] == 20 and result["perplexity"] < 1.5
    translator = rnnkit.load(run)
    assert translator.translate(["un oiseau mange le chien ."], beam=5) == ["A bird eats the dog."]
    assert repr(translator).startswith("LoadedTranslator(1x32 bidirectional lstm -> 1x32 lstm, general attention")
    assert "translate  1x32 bi-lstm>1x32 lstm" in ok("runs", run.parent)
    info = json.loads(ok("info", run, "--json"))
    evals = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    best = max(r["val_bleu"] for r in evals if r["kind"] == "eval")
    assert info["metrics"]["best_eval"]["val_bleu"] == best  # higher BLEU is better
    plots = tmp_path / "plots"
    ok("translate", run, "le chat voit un oiseau .", "un chien .", "--attention-plot", plots)
    assert sorted(p.name for p in plots.iterdir()) == ["attention_0001.png", "attention_0002.png"]


def test_aligned_gz_files_subwords_and_exact_resume(tmp_path):
    rows = pairs(200, seed=1)
    src, tgt = tmp_path / "train.fr.gz", tmp_path / "train.en.gz"
    src.write_bytes(gzip.compress("".join(s + "\n" for s, _ in rows).encode()))
    tgt.write_bytes(gzip.compress("".join(t + "\n" for _, t in rows).encode()))
    flags = ["--tokens", "subword", "--subword-vocab", "40", "--shared-vocab", "--cell", "gru", *TINY]
    whole, part = tmp_path / "whole", tmp_path / "part"
    ok("train", "translate", "--source", src, "--target", tgt, "--run-dir", whole, "--max-steps", "16", *flags)
    ok("train", "translate", "--source", src, "--target", tgt, "--run-dir", part, "--max-steps", "9", *flags)
    ok("train", "translate", "--resume", part, "--max-steps", "16")
    for name in ("latest.safetensors", "best.safetensors"):  # tensors equal (the files hold the clock too)
        a, b = load_file(whole / name), load_file(part / name)
        assert sorted(a) == sorted(b)
        different = [k for k in a if not torch.equal(a[k], b[k])]
        assert not different, f"{name}: the resumed run differs from the uninterrupted one in {different}"
    config = json.loads((whole / "config.json").read_text())
    assert config["model"]["encoder"]["cell"] == config["model"]["decoder"]["cell"] == "gru"
    assert rnnkit.load(whole).source_segmenter.kind == "subword"


def test_counts_of_dropped_pairs_are_reported(tmp_path):
    rows = pairs(60, seed=2) + [("un chat .", "")] * 3 + [(" ".join(["le"] * 30), "the")]
    data = write_tsv(tmp_path / "p.tsv", rows)
    code, _, err = cli(
        "train", "translate", data, "--max-length", "12", "--max-steps", "2", "--run-dir", tmp_path / "r", *TINY
    )
    assert code == 0, err
    assert "(3 with an empty side dropped; 1 longer than 12 tokens dropped)" in err
    code, out, err = cli("translate", tmp_path / "r", " ".join(["le chat"] * 10) + " .", "un chat .", "--beam", "2")
    assert code == 0 and len(out.splitlines()) == 2, err
    assert err.strip() == "warning: 1 sentence(s) longer than the training limit of 12 tokens were cut to it"


@pytest.mark.parametrize(
    "argv, fragments",
    [
        (["translate", "{run}", "x", "--beam", "0"], ["beam: expected an integer >= 1 (1 = greedy), got 0"]),
        (["translate", "{run}", "x", "--alpha", "-1"], ["alpha: expected a length-penalty exponent >= 0"]),
        (["translate", "{run}", "x", "--n-best", "9"], ["n-best: expected an integer in [1, beam=5], got 9"]),
        (["translate", "{run}", "x", "--sample", "--beam", "3"], ["sample: expected --sample without --beam/--n-best"]),
        (["eval", "{run}", "--beam", "0"], ["beam: expected an integer >= 1"]),
    ],
)
def test_bad_decoding_options(trained, argv, fragments):
    _, run = trained
    before = digest(run)
    assert_error(cli(*[a.format(run=run) for a in argv]), *fragments)
    assert digest(run) == before


def test_bad_data(tmp_path):
    one_column = tmp_path / "one.tsv"
    one_column.write_text("a sentence without its translation\n", encoding="utf-8")
    assert_error(
        cli("train", "translate", one_column, "--run-dir", tmp_path / "r1", *TINY),
        f"{one_column}:1: 1 field (no tab); expected at least 2 tab-separated fields",
    )
    a, b = tmp_path / "a.fr", tmp_path / "b.en"
    a.write_text("un\ndeux\ntrois\n", encoding="utf-8")
    b.write_text("one\ntwo\n", encoding="utf-8")
    assert_error(
        cli("train", "translate", "--source", a, "--target", b, "--run-dir", tmp_path / "r2", *TINY),
        f"{a} has 3 lines but {b} has 2",
    )
    assert_error(cli("train", "translate", "--source", a, *TINY), "expected --source FILE and --target FILE together")
    empty = tmp_path / "empty.tsv"
    empty.write_text("", encoding="utf-8")
    assert_error(cli("train", "translate", empty, "--run-dir", tmp_path / "r3", *TINY), f"{empty} is empty")
    assert not (tmp_path / "r1" / "latest.safetensors").exists()


def test_a_checkpoint_of_another_task_is_refused(trained, tmp_path):
    corpus = tmp_path / "text.txt"
    corpus.write_text("hello world, hello there. " * 200, encoding="utf-8")
    lm = tmp_path / "lm"
    ok("train", corpus, "--run-dir", lm, "--max-steps", "2", "--hidden-size", "8", "--num-layers", "1", "--no-progress")
    assert_error(cli("translate", lm, "hello"), "expected a translator")
