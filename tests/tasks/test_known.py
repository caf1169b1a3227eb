"""Data read with a checkpoint's vocabulary (fine-tuning), the init_from record's schema, the <unk> warning rule."""

from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path

import pytest

from rnnkit.checkpoint import CheckpointError
from rnnkit.data import DataError
from rnnkit.tasks import TASKS, driver
from rnnkit.tasks.known import inherited, refuse_others
from rnnkit.tasks.lm.config import DataConfig
from rnnkit.tasks.lm.prepare import prepare_corpus
from rnnkit.tasks.schema import check_run_config

V0 = Path(__file__).resolve().parents[1] / "fixtures" / "v0"
RECORD = {"path": "/runs/a/best.safetensors", "step": 30, "weights_sha256": "ab" * 32}


def test_refuse_others_lists_the_others_most_frequent_first():
    refuse_others(["a", "b"], "labels", ["a", "b", "a"], ["x.tsv"])  # nothing else: no error
    with pytest.raises(DataError) as info:
        refuse_others(["a", "b"], "labels", ["c", "a", "d", "d", "c", "d"], ["x.tsv", "y.tsv"])
    assert str(info.value) == (
        "init-from: expected only the checkpoint's 2 labels ['a', 'b'], got 2 others in x.tsv, y.tsv: 'd' (3x), "
        "'c' (2x); fine-tune on data with the checkpoint's labels only, or train a new model on it (without "
        "--init-from)"
    )
    many = Counter({chr(0x400 + i): i + 1 for i in range(12)})
    with pytest.raises(DataError, match=r"got 12 others in t\.txt: 'Ћ' \(12x\), .*'Ђ' \(3x\), \.\.\.; replace"):
        refuse_others(["a"], "characters", many, ["t.txt"])


def test_a_char_corpus_keeps_the_checkpoint_s_vocabulary(tmp_path):
    (tmp_path / "old.txt").write_text("abcabcabd\n" * 40)
    (tmp_path / "new.txt").write_text("cab\n" * 30)
    old = prepare_corpus(DataConfig(), [str(tmp_path / "old.txt")])
    known = {"vocab": old.vocab.to_dict()}
    new = prepare_corpus(DataConfig(), [str(tmp_path / "new.txt")], known)
    assert new.vocab.to_dict() == old.vocab.to_dict()  # 'd' stays, though new.txt lacks it
    assert new.vocab.decode(new.splits["train"][:4]) == "cab\n"
    (tmp_path / "odd.txt").write_text("cab\n" * 30 + "cxb\n")
    with pytest.raises(DataError, match=r"expected only the checkpoint's 5 characters, got 1 other in .*odd.txt: 'x'"):
        prepare_corpus(DataConfig(), [str(tmp_path / "odd.txt")], known)
    lines = prepare_corpus(DataConfig(mode="lines"), [str(tmp_path / "old.txt")])
    again = prepare_corpus(DataConfig(mode="lines"), [str(tmp_path / "new.txt")], {"vocab": lines.vocab.to_dict()})
    assert again.vocab.to_dict() == lines.vocab.to_dict()  # line mode: the newline is no character of the vocabulary


def test_a_word_corpus_reads_unseen_words_as_unk_and_counts_them(tmp_path):
    (tmp_path / "old.txt").write_text("the cat sat\n" * 20)
    (tmp_path / "new.txt").write_text("the dog sat\n" * 20)
    cfg = DataConfig(tokens="word", split=(0.8, 0.1, 0.1))
    old = prepare_corpus(cfg, [str(tmp_path / "old.txt")])
    new = prepare_corpus(cfg, [str(tmp_path / "new.txt")], {"vocab": old.vocab.to_dict()})
    assert new.vocab.to_dict() == old.vocab.to_dict()
    assert new.unknown["train"] == 16 and sum(new.unknown.values()) == 20  # every "dog"


def test_inherited_is_the_metadata_of_a_fine_tuned_run_only():
    meta = {"vocab": {}, "config": {"data": {}, "init_from": RECORD}}
    assert inherited(meta) is meta
    assert inherited({"vocab": {}, "config": {"data": {}}}) is None


@pytest.mark.parametrize(
    "record",
    [
        {**RECORD, "step": -1},
        {**RECORD, "weights_sha256": "xyz"},
        {"path": "/a"},
        "runs/a",
    ],
)
def test_a_bad_init_from_record_is_one_checkpoint_line(record):
    check_run_config({"init_from": RECORD}, "f.safetensors")
    check_run_config({"init_from": {**RECORD, "step": None}}, "f.safetensors")
    with pytest.raises(CheckpointError, match=r"^checkpoint: f\.safetensors: config\.init_from is .*; expected \{"):
        check_run_config({"init_from": record}, "f.safetensors")


@pytest.mark.parametrize("run, task, held, verb", [("classify", "lm", "classify", "rnnkit train classify")])
def test_read_init_refuses_a_run_of_another_task(run, task, held, verb, tmp_path):
    shutil.copytree(V0 / run, tmp_path / run)
    with pytest.raises(ValueError) as info:
        driver.read_init(TASKS[task], tmp_path / run)
    assert str(info.value) == (
        f"init-from: {tmp_path / run} holds a {held} run; fine-tune it with `{verb} DATA --init-from {tmp_path / run}`"
    )
    init = driver.read_init(TASKS["classify"], tmp_path / run)
    assert init.path == tmp_path / run / "best.safetensors" and init.meta.task == "classify"


class Counted(type(TASKS["lm"])):
    """A spec whose validation split has ``unknown`` of 100 tokens <unk>."""

    def __init__(self, unknown: int):
        self.unknown = unknown

    def unknown_tokens(self, data, split):
        return (self.unknown, 100) if split == "val" else (0, 0)

    def unknown_advice(self, cfg, data):
        return "why", "fix"


def test_the_rule_is_more_than_a_tenth_of_the_validation_tokens():
    assert Counted(10).unknown_warning({}, None) is None
    assert Counted(11).unknown_warning({}, None) == "warning: 11% of the validation tokens are <unk> (why); fix"
    assert Counted(11).unknown_warning({}, None, fine_tuning=True) == (
        "warning: 11% of the validation tokens are <unk> (not in the checkpoint's vocabulary); fine-tuning keeps "
        "that vocabulary; to learn these words train a new model (without --init-from)"
    )
    assert TASKS["tag"].unknown_threshold == 0.25
