"""``rnnkit tag RUN TEXT...``: texts as arguments (as ``predict`` takes them), cut into words as UD
English EWT cuts them; files by ``--file`` or, as before, one argument naming an existing file;
``--input tokens`` for text already tokenised; the errors."""

import random

import pytest

from ._harness import assert_error, cli, ok

DET, NOUN, VERB = ["the", "a", "this"], ["cat", "dog", "bird", "fish"], ["sees", "eats", "likes"]
TAG_OF = {**dict.fromkeys(DET, "DET"), **dict.fromkeys(NOUN, "NOUN"), **dict.fromkeys(VERB, "VERB")}
TAG_OF.update({"!": "PUNCT", ".": "PUNCT", "'s": "AUX", "n't": "PART", "does": "AUX"})
FLAGS = ["--hidden-size", "16", "--embedding-size", "8", "--num-layers", "1", "--batch-size", "8", "--lr", "0.05"]


def sentence(rng: random.Random) -> list[str]:
    pick = rng.choice
    if rng.random() < 0.3:
        return [pick(DET), pick(NOUN), "does", "n't", pick(VERB), pick(DET), pick(NOUN), pick(["!", "."])]
    return [pick(DET), pick(NOUN), pick(VERB), pick(DET), pick(NOUN), pick(["!", "."])]


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    root = tmp_path_factory.mktemp("tagtext")
    rng = random.Random(0)
    data = root / "train.tsv"
    data.write_text("\n".join("".join(f"{w}\t{TAG_OF[w]}\n" for w in sentence(rng)) for _ in range(120)))
    code, _, err = cli(
        "train", "tag", data, *FLAGS, "--max-epochs", "8", "--device", "cpu", "--no-progress", "--run-dir", root / "run"
    )
    assert code == 0, err
    return root / "run"


def rows(out: str) -> list[list[tuple[str, str]]]:
    """columns output -> one list of (token, tag) per sentence."""
    return [[tuple(line.split("\t")) for line in block.splitlines()] for block in out.strip("\n").split("\n\n")]


def test_texts_as_arguments_are_cut_as_ud_cuts_them(run):
    out = ok("tag", run, "the cat doesn't see a dog!", "this bird eats a fish.")
    got = rows(out)
    assert [[w for w, _ in s] for s in got] == [
        ["the", "cat", "does", "n't", "see", "a", "dog", "!"],
        ["this", "bird", "eats", "a", "fish", "."],
    ]
    assert got[1] == [(w, TAG_OF[w]) for w in ["this", "bird", "eats", "a", "fish", "."]]
    assert dict(got[0])["!"] == "PUNCT" and dict(got[0])["n't"] == "PART"
    assert ok("tag", "--output", "conllu", run, "a dog!").splitlines()[2].split("\t")[:4] == ["3", "!", "_", "PUNCT"]


def test_files_stdin_and_pre_tokenised_text(run, tmp_path):
    plain = tmp_path / "plain.txt"
    plain.write_text("the cat sees a dog!\n\nthis bird doesn't eat.\n")
    expected = ok("tag", run, "the cat sees a dog!", "this bird doesn't eat.")
    assert ok("tag", run, "--file", plain) == expected
    assert ok("tag", run, plain) == expected  # one argument naming an existing file: that file, as before
    assert ok("tag", run, stdin=plain.read_text()) == expected
    # --input tokens: whitespace tokens as given, for text already tokenised
    out = ok("tag", run, "--input", "tokens", "a dog! the cat")
    assert [w for w, _ in rows(out)[0]] == ["a", "dog!", "the", "cat"]
    assert (
        ok("tag", run, "--file", plain, "--input", "tokens").splitlines()[4]
        == "dog!\t" + rows(ok("tag", run, "--input", "tokens", "the cat sees a dog!"))[0][4][1]
    )


def test_bad_arguments(run, tmp_path):
    assert_error(cli("tag", run, "fine", " "), "tag: text 2 is empty")
    assert_error(cli("tag", run, "--file", tmp_path / "x.txt", "a text"), "expected texts or --file, got both")
    assert_error(cli("tag", run, "--input", "conllu", "a dog", "a cat"), "--input conllu reads a file or stdin")
    assert_error(cli("tag", run, tmp_path / "missing.conllu"), "no such file", "missing.conllu")
    assert_error(cli("tag", run, "--file", tmp_path / "missing.txt"), "missing.txt")
    assert [w for w, _ in rows(ok("tag", run, "notes.txt is here"))[0]] == ["notes.txt", "is", "here"]  # a text
