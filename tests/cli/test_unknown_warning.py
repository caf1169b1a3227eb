"""The warning when many validation tokens are <unk> (issue 13, item 10): e.g. ``train classify names/``
without ``--tokens char``, where every held-out name is a word never seen in training."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from tests.cli._harness import cli
from tests.cli._runs import WORDS, one_thread

SMALL = ("--hidden-size", 8, "--embedding-size", 8, "--batch-size", 8, "--device", "cpu", "--no-progress")
LANGUAGES = {"Arabic": "aeiklmrsh", "Greek": "aeiopstnk", "Irish": "aoiuchnlr"}


def names_dir(root: Path, per_class: int = 60) -> Path:
    """names/<Language>.txt: short random names, one a line, none in two files or twice in one."""
    rng, seen, d = random.Random(3), set(), root / "names"
    d.mkdir()
    for language, letters in LANGUAGES.items():
        lines = []
        while len(lines) < per_class:
            name = "".join(rng.choice(letters) for _ in range(rng.randint(4, 8))).title()
            if name not in seen:
                seen.add(name)
                lines.append(name)
        (d / f"{language}.txt").write_text("\n".join(lines) + "\n")
    return d


def warnings(*argv) -> list[str]:
    with one_thread():
        code, _, err = cli("train", *argv, "--max-steps", 1, *SMALL)
    assert code == 0, err
    return [line for line in err.splitlines() if line.startswith("warning:")]


def test_a_word_classifier_of_names_warns_once_with_the_fix(tmp_path):
    names = names_dir(tmp_path)
    assert warnings("classify", names, "--run-dir", tmp_path / "words") == [
        "warning: 100% of the validation tokens are <unk> (words unseen in training); for names or short strings "
        "use --tokens char"
    ]
    assert warnings("classify", names, "--tokens", "char", "--run-dir", tmp_path / "chars") == []
    assert warnings("classify", names, "--max-vocab", 20, "--run-dir", tmp_path / "rare") == [
        "warning: 100% of the validation tokens are <unk> (words unseen in training or cut by --min-freq/--max-vocab); "
        "a lower --min-freq or a larger --max-vocab keeps more words; for names or short strings use --tokens char"
    ]
    with one_thread():  # printed at the start of a run, not again on its resume
        code, _, err = cli("train", "classify", "--resume", tmp_path / "words", "--max-steps", 2, "--no-progress")
    assert code == 0 and "warning:" not in err, err


def test_a_classifier_whose_validation_words_were_seen_does_not_warn(tmp_path):
    rng = random.Random(0)
    rows = [f"{' '.join(rng.choice(WORDS) for _ in range(5))}\t{('a', 'b')[i % 2]}" for i in range(80)]
    (tmp_path / "d.tsv").write_text("text\tlabel\n" + "\n".join(rows) + "\n")
    assert warnings("classify", tmp_path / "d.tsv", "--run-dir", tmp_path / "r") == []


def tagged(path: Path, unseen_every: int) -> Path:
    """token<TAB>tag sentences of 4 words; every ``unseen_every``-th word is new (a NOUN)."""
    rng, blocks, n = random.Random(5), [], 0
    for _ in range(100):
        words = []
        for w in range(4):
            n += 1
            word = f"new{n}" if n % unseen_every == 0 else rng.choice(WORDS[:8])
            words.append(f"{word}\t{'NOUN' if word.startswith('new') else ('DET', 'VERB')[w % 2]}")
        blocks.append("\n".join(words))
    path.write_text("\n\n".join(blocks) + "\n")
    return path


@pytest.mark.parametrize("unseen_every, warned", [(5, False), (2, True)])
def test_a_tagger_warns_only_above_a_quarter_of_unseen_words(tmp_path, unseen_every, warned):
    """Unseen words are normal for a tagger: 20% is not warned about, 50% is."""
    got = warnings("tag", tagged(tmp_path / "t.tsv", unseen_every), "--run-dir", tmp_path / "r")
    assert got == (
        [
            "warning: 50% of the validation tokens are <unk> (words unseen in training); a tagger copes with some "
            "(--word-dropout, --char-features), but this many suggests held-out text unlike the training text"
        ]
        if warned
        else []
    )


def test_a_word_language_model_warns_with_its_vocabulary_options(tmp_path):
    rng = random.Random(1)
    train = "\n".join(" ".join(rng.choice(WORDS) for _ in range(8)) for _ in range(60))
    held = "\n".join(" ".join(f"w{rng.randint(0, 999)}" for _ in range(8)) for _ in range(6))
    (tmp_path / "train.txt").write_text(train + "\n")
    (tmp_path / "valid.txt").write_text(held + "\n")
    lm = ("--tokens", "word", "--valid", tmp_path / "valid.txt", "--num-layers", 1, "--seq-len", 8)
    lm += ("--sample-length", 0)
    got = warnings(tmp_path / "train.txt", *lm, "--run-dir", tmp_path / "a")
    share = f"{48 / 54:.0%}"  # 48 words, all unseen, and 6 <eos>
    assert got == [
        f"warning: {share} of the validation tokens are <unk> (words unseen in training); the held-out text shares "
        "few words with the training text; give more training text, or use --tokens char"
    ]
    got = warnings(tmp_path / "train.txt", *lm, "--vocab-size", 10, "--run-dir", tmp_path / "b")
    assert got == [
        f"warning: {share} of the validation tokens are <unk> (words unseen in training or cut by "
        "--vocab-size/--min-freq); a larger --vocab-size (0: every word) or a lower --min-freq keeps more of them; "
        "--tokens char reads any text"
    ]
