"""A hostile corpus, part 1: checkpoint metadata edited and signed again (the checksums are unkeyed,
so anyone can), of today's runs and of rnnkit 0.1's. Every command that loads a checkpoint (sample, predict, tag,
eval, visualize, diagnose, train --resume) must answer each with exactly one line, exit code 2, no
traceback, and leave every file of the run as it was; nothing from the file ever runs."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from rnnkit.data import CharVocab, DataError, TokenVocab, WordVocab, vocab_from_dict
from rnnkit.tasks import check_checkpoint
from tests.checkpoint._crafting import at, drop, edit_meta, resign
from tests.checkpoint._hostile import V0, both, refused_everywhere, snapshot, v0_data
from tests.cli._harness import assert_error, cli, ok

# ----- metadata edits, signed again ---------------------------------------------------------------
DEEP: dict = {}
_node = DEEP
for _ in range(80):
    _node["x"] = {}
    _node = _node["x"]

GOOD_DIGEST = {"path": "/data/a.txt", "size": 10, "sha256": "0" * 64}

META_CASES = {
    # (task, edit of the meta, fragment of the one line, commands whose checks the driver lacks today)
    "task-int": ("lm", at("task", 3), "task is a int"),
    "task-unknown": ("lm", at("task", "translate"), "translate"),
    "task-missing": ("lm", drop("task"), "has no task"),
    "task-of-another-kind": ("lm", at("task", "classify"), "model.kind is 'language_model' in a 'classify' run"),
    "model-list": ("lm", at("model", [1, 2]), "has no model description"),
    "model-missing": ("lm", drop("model"), "has no model description"),
    "kind-unknown": ("lm", at("model.kind", "transformer"), "model.kind is 'transformer'"),
    "kind-int": ("lm", at("model.kind", 7), "model.kind is a int"),
    "kind-of-classifier": ("lm", at("model.kind", "sequence_classifier"), "model.kind is 'sequence_classifier'"),
    "config-str": ("lm", at("model.config", "big"), "model.config is a str"),
    "config-missing": ("lm", drop("model.config"), "model.config is a NoneType"),
    "hidden-huge": ("lm", at("model.config.rnn.hidden_size", 10**12), "hidden_size is 1000000000000, more than"),
    "hidden-16tb": ("lm", at("model.config.rnn.hidden_size", 2_000_000), "hidden_size is 2000000, more than"),
    "hidden-negative": ("lm", at("model.config.rnn.hidden_size", -8), "hidden_size: expected a positive integer"),
    "hidden-zero": ("lm", at("model.config.rnn.hidden_size", 0), "hidden_size: expected a positive integer"),
    "hidden-str": ("lm", at("model.config.rnn.hidden_size", "8"), "expected a int, got '8'"),
    "hidden-float": ("lm", at("model.config.rnn.hidden_size", 8.5), "expected a int, got 8.5"),
    "hidden-bool": ("lm", at("model.config.rnn.hidden_size", True), "got True"),
    "hidden-list": ("lm", at("model.config.rnn.hidden_size", [8]), "got [8]"),
    "hidden-wrong": ("lm", at("model.config.rnn.hidden_size", 9), "has shape"),
    "layers-huge": ("lm", at("model.config.rnn.num_layers", 10**9), "num_layers is 1000000000, more than"),
    "layers-wrong": ("lm", at("model.config.rnn.num_layers", 2), "is missing"),
    "vocab-size-huge": ("lm", at("model.config.vocab_size", 10**15), "vocab_size is 1000000000000000, more than"),
    "vocab-size-off-by-one": ("lm", at("model.config.vocab_size", 24), "vocab_size is 24; expected 23"),
    "vocab-size-negative": ("lm", at("model.config.vocab_size", -1), "vocab_size to be a positive integer"),
    "embedding-one-hot": ("lm", at("model.config.embedding_size", 0), "not part of the model"),
    "cell-unknown": ("lm", at("model.config.rnn.cell", "transformer"), "cell: expected one of"),
    "cell-other": ("lm", at("model.config.rnn.cell", "gru"), "has shape"),
    "cell-none": ("lm", at("model.config.rnn.cell", None), "expected a str, got None"),
    "proj-huge": ("lm", at("model.config.rnn.proj_size", 10**13), "proj_size is 10000000000000, more than"),
    "dropout-big": ("lm", at("model.config.dropout", 5.0), "dropout in [0, 1)"),
    "dropout-nan": ("lm", at("model.config.dropout", {"__float__": "nan"}), "dropout in [0, 1)"),
    "tie-without-sizes": ("lm", at("model.config.tie_weights", True), "tie_weights needs"),
    "rnn-int": ("lm", at("model.config.rnn", 5), "[model.rnn]: expected a table, got 5"),
    "config-unknown-key": ("lm", at("model.config.bogus", 1), "unknown key(s) ['bogus']"),
    "config-tagged-dict": ("lm", at("model.config", {"__dict__": [[1, 2]]}), "unknown key(s) [1]"),
    "vocab-list": ("lm", at("vocab", ["a", "b"]), "vocab is a list"),
    "vocab-missing": ("lm", drop("vocab"), "has no vocab"),
    "vocab-kind-unknown": ("lm", at("vocab.kind", "bpe"), "unknown vocabulary kind 'bpe'"),
    "vocab-kind-list": ("lm", at("vocab.kind", ["char"]), "unknown vocabulary kind ['char']"),
    "vocab-kind-tokens": (
        "lm",
        at("vocab", {"kind": "tokens", "tokens": "char", "lowercase": False, "symbols": list("abc")}),
        "a language model's vocabulary has kind 'tokens'",
    ),
    "vocab-chars-str": ("lm", at("vocab.chars", "abc"), "expected a list under 'chars'"),
    "vocab-chars-ints": ("lm", at("vocab.chars", list(range(23))), "expected single characters, got 0"),
    "vocab-chars-nested": ("lm", at("vocab.chars", [["a"]] * 23), "expected single characters"),
    "vocab-chars-duplicate": ("lm", at("vocab.chars", ["a"] * 23), "expected distinct characters"),
    "vocab-chars-fewer": ("lm", at("vocab.chars", list("abcdefghijklmnopqrstuv")), "vocab_size is 23; expected 22"),
    "vocab-chars-empty": ("lm", at("vocab.chars", []), "expected at least one character"),
    "vocab-specials-str": ("lm", at("vocab.specials", "<bos>"), "expected a list under 'specials'"),
    "vocab-specials-dict": ("lm", at("vocab.specials", [{}]), "expected each special to be a non-empty str"),
    "run-config-int": ("lm", at("config", 3), "config is a int"),
    "run-config-missing": ("lm", drop("config"), "has no config"),
    "run-config-data-missing": ("lm", drop("config.data"), "config has no data"),
    "run-config-source-missing": ("lm", drop("config.source"), "config has no source"),
    "run-config-train-model-missing": ("lm", at("config", {"data": {}}), "config has no model, train, source"),
    "run-config-data-list": ("lm", at("config.data", []), "config.data is a list"),
    "run-config-train-str": ("lm", at("config.train", "fast"), "config.train is a str"),
    "source-str": ("lm", at("config.source", "/etc/passwd"), "config.source is '/etc/passwd'"),
    "source-ints": ("lm", at("config.source", [1]), "config.source is [1]"),
    "source-task-int": ("lm", at("config.task", 1), "config.task is a int"),
    "digests-dict": ("lm", at("config.source_digests", {"a": 1}), "config.source_digests is a dict"),
    "digests-missing-key": ("lm", at("config.source_digests", [{"path": "a"}]), "source_digests[0]"),
    "digests-negative-size": ("lm", at("config.source_digests", [{**GOOD_DIGEST, "size": -1}]), "source_digests[0]"),
    "digests-bool-size": ("lm", at("config.source_digests", [{**GOOD_DIGEST, "size": True}]), "source_digests[0]"),
    "digests-short-hash": ("lm", at("config.source_digests", [{**GOOD_DIGEST, "sha256": "ab"}]), "source_digests[0]"),
    "digests-extra-key": ("lm", at("config.source_digests", [{**GOOD_DIGEST, "x": 1}]), "source_digests[0]"),
    "step-str": ("lm", at("step", "six"), "step is 'six'; expected an integer >= 0"),
    "step-negative": ("lm", at("step", -1), "step is -1"),
    "step-float": ("lm", at("step", 1.5), "step is 1.5"),
    "epoch-none": ("lm", at("epoch", None), "epoch is None"),
    "index-list": ("lm", at("index", [0]), "index is [0]"),
    "best-score-str": ("lm", at("best_score", "good"), "best_score is 'good'"),
    "monitor-int": ("lm", at("monitor", 3), "monitor is a int"),
    "loss-guard-list": ("lm", at("loss_guard", []), "loss_guard is []"),
    "loss-guard-str": ("lm", at("loss_guard.smooth", "x"), "loss_guard is"),
    "eval-int": ("lm", at("eval", 3), "eval is a int"),
    "meta-version-2": ("lm", at("meta_version", 2), "metadata version 2; expected 1 or older"),
    "meta-version-str": ("lm", at("meta_version", "1"), "metadata version '1'"),
    "deep-nesting": ("lm", at("deep", DEEP), "nested more than 64 levels deep"),
    # classifiers and taggers
    "labels-missing": ("classify", drop("labels"), "has no labels"),
    "labels-int": ("classify", at("labels", 2), "labels is 2"),
    "labels-ints": ("classify", at("labels", [0, 1]), "labels is [0, 1]"),
    "labels-duplicate": ("classify", at("labels", ["pos", "pos"]), "labels repeats a name"),
    "labels-three": ("classify", at("labels", ["neg", "pos", "meh"]), "num_classes is 2; expected 3"),
    "classes-huge": ("classify", at("model.config.num_classes", 10**12), "num_classes is 1000000000000, more than"),
    "classifier-task-bad": ("classify", at("model.config.task", "cluster"), "expected task in"),
    "classifier-pooling-bad": ("classify", at("model.config.pooling", "median"), "expected pooling in"),
    "classifier-vocab-stream": (
        "classify",
        at("vocab", {"kind": "char", "specials": [], "chars": list("abc")}),
        "expected a dict of kind 'tokens'",
    ),
    "classifier-symbols-fewer": ("classify", at("vocab.symbols", ["movie"]), "vocab_size is 9; expected 3"),
    "classifier-lowercase-str": ("classify", at("vocab.lowercase", "yes"), "under 'lowercase'"),
    "classifier-tokens-bad": ("classify", at("vocab.tokens", "bytes"), "expected tokens in"),
    "tags-missing": ("tag", drop("tags"), "has no tags"),
    "tags-dict": ("tag", at("tags", {"DET": 0}), "tags is {'DET': 0}"),
    "tags-fewer": ("tag", at("tags", ["DET", "NOUN"]), "num_tags is 3; expected 2"),
    "chars-list": ("tag", at("chars", ["a"]), "chars is a list"),
    "tagger-char-features": ("tag", at("model.config.char_features", True), "char_vocab_size >= 2"),
    "tagger-char-hidden-huge": ("tag", at("model.config.char_hidden_size", 10**10), "char_hidden_size is"),
    "tagger-bidirectional-off": ("tag", at("model.config.rnn.bidirectional", False), "not part of the model"),
}


@pytest.mark.parametrize("case", list(META_CASES))
def test_edited_and_resigned_metadata_is_refused_in_one_line(copy_of, tmp_path, case):
    task, edit, fragment = META_CASES[case]
    run = copy_of(task)
    both(run, lambda p: resign(p, edit_meta(edit)))
    assert refused_everywhere(task, run, tmp_path, fragment)


@pytest.mark.parametrize("case", ["hidden-wrong", "labels-three", "tags-fewer", "run-config-data-missing"])
def test_resume_checks_the_whole_checkpoint_first(copy_of, tmp_path, case):
    task, edit, fragment = META_CASES[case]
    run = copy_of(task)
    both(run, lambda p: resign(p, edit_meta(edit)))
    verb = [] if task == "lm" else [task]
    before = snapshot(run)
    assert_error(cli("train", *verb, "--resume", run, "--max-steps", 9, "--no-progress"), fragment)
    assert snapshot(run) == before


def test_diagnose_checks_the_checkpoint_first(copy_of, tmp_path):
    run = copy_of("lm")
    both(run, lambda p: resign(p, edit_meta(at("model", [1, 2]))))
    assert_error(cli("diagnose", run, "--steps", 4, "--out", tmp_path), "has no model description")


def test_a_meta_that_is_not_an_object_is_refused(copy_of, tmp_path):
    run = copy_of("lm")
    both(run, lambda p: resign(p, lambda doc, tensors: doc.update(meta=[1, 2])))
    refused_everywhere("lm", run, tmp_path, "its metadata is a list")


def test_valid_source_digests_are_accepted(copy_of):
    run = copy_of("lm")
    both(run, lambda p: resign(p, edit_meta(at("config.source_digests", [GOOD_DIGEST]))))
    assert ok("sample", run, "--length", 5, "--seed", 1)


# ----- rnnkit 0.1 checkpoints, edited: migrated first, then checked -------------------------------
V0_CASES = {
    "v0-flat-unknown-key": ("lm", at("model.config.bogus", 1), "unknown key(s) ['bogus']"),
    "v0-flat-hidden-str": ("lm", at("model.config.hidden_size", "8"), "expected a int"),
    "v0-config-list": ("lm", at("model.config", [1]), "model.config is a list"),
    "v0-hidden-huge": ("lm", at("model.config.hidden_size", 10**12), "expected an estimated size within"),
    "v0-vocab-fewer": ("lm", at("vocab.chars", list("abc")), "vocab_size is 23; expected 3"),
    "v0-run-config-model-bad": ("lm", at("config.model.hidden_size", "x"), "expected a int"),
    "v0-tags-fewer": ("tag", at("tags", ["DET"]), "num_tags is 3; expected 1"),
}


@pytest.mark.parametrize("case", list(V0_CASES))
def test_edited_v0_checkpoints_are_refused_in_one_line(tmp_path, case):
    task, edit, fragment = V0_CASES[case]
    v0_data()
    run = Path(shutil.copytree(V0 / ("char_lm" if task == "lm" else task), tmp_path / task))
    (tmp_path / "sentences.txt").write_text("the cat sees a dog\n", encoding="utf-8")
    both(run, lambda p: resign(p, edit_meta(edit)))
    refused_everywhere(task, run, tmp_path / "out", fragment)


def test_the_unedited_v0_fixtures_still_load():
    for name in ("char_lm", "word_lm", "classify", "tag"):
        assert check_checkpoint(V0 / name).task == {"char_lm": "lm", "word_lm": "lm"}.get(name, name)


def test_the_resign_helper_makes_files_that_load(copy_of):
    """The corpus is only hostile where it is edited: an identity edit loads and samples."""
    run = copy_of("lm")
    both(run, lambda p: resign(p, lambda doc, tensors: None))
    assert ok("sample", run, "--length", 5, "--seed", 1)


# ----- the vocabulary's stored forms, read from an untrusted dict ---------------------------------
GOOD_FORMS = (
    {"kind": "char", "specials": [], "chars": ["a", "b"]},
    {"kind": "word", "specials": ["<eos>", "<unk>"], "words": ["x", "y"]},
    {"kind": "tokens", "tokens": "word", "lowercase": False, "symbols": ["a", "b"]},
)
ODD_VALUES = (None, 1, 1.5, "s", [], ["a"], {}, {"a": 1}, [[1]], [{}], ["a", "a"], [""], [None], True, ["<eos>"])
MISSING = object()


@pytest.mark.parametrize("reader", [vocab_from_dict, TokenVocab.from_dict, CharVocab.from_dict, WordVocab.from_dict])
def test_every_odd_vocabulary_form_is_a_data_error_or_a_vocabulary(reader):
    tried = 0
    for good in GOOD_FORMS:
        for key in good:
            for value in (*ODD_VALUES, MISSING):
                form = {k: v for k, v in good.items() if not (k == key and value is MISSING)}
                if value is not MISSING:
                    form[key] = value
                try:
                    reader(form)
                except DataError as e:
                    assert "\n" not in str(e) and str(e).startswith("vocab: ")
                tried += 1
    assert tried == 160


def test_a_non_bool_lowercase_is_refused():
    with pytest.raises(DataError, match="expected true or false under 'lowercase', got 'yes'"):
        TokenVocab.from_dict({**GOOD_FORMS[2], "lowercase": "yes"})
