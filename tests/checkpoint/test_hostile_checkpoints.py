"""A hostile corpus: checkpoints edited and signed again (the checksums are unkeyed), damaged headers,
huge, sparse, truncated and non-regular files. Every command that loads a checkpoint (sample, predict,
tag, eval, visualize, diagnose, train --resume) must answer each with exactly one line, exit code 2,
no traceback, and leave every file of the run as it was; nothing from the file ever runs."""

from __future__ import annotations

import hashlib
import math
import os
import shutil
from pathlib import Path

import pytest
import torch

from rnnkit.checkpoint import CheckpointError, load_checkpoint, read_meta
from rnnkit.checkpoint.container import _document_digest, _dumps
from tests.checkpoint._crafting import at, drop, edit_header, edit_meta, resign, resign_header
from tests.cli._harness import assert_error, cli, ok
from tests.fixtures.make_v0_checkpoints import DATA_ROOT

V0 = Path(__file__).resolve().parents[1] / "fixtures" / "v0"
TIB = 1 << 40


# ----- the runs to break: rnnkit 0.1 runs resumed, so their checkpoints are today's format -------
@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, Path]:
    DATA_ROOT.mkdir(parents=True, exist_ok=True)
    for name in ("text.txt", "cls.tsv", "tag.tsv"):
        shutil.copy(V0 / name, DATA_ROOT / name)
    root = tmp_path_factory.mktemp("hostile")
    out = {}
    for name, verb in (("lm", []), ("classify", ["classify"]), ("tag", ["tag"])):
        run = root / name
        shutil.copytree(V0 / ("char_lm" if name == "lm" else name), run)
        lm_only = ["--sample-length", "0"] if name == "lm" else []
        ok("train", *verb, "--resume", run, "--max-steps", "6", "--no-progress", *lm_only)
        assert read_meta(run / "latest.safetensors")["meta_version"] == 1
        shutil.copy(run / "latest.safetensors", run / "best.safetensors")
        out[name] = run
    (root / "sentences.txt").write_text("the cat sees a dog\na bird eats\n", encoding="utf-8")
    return out


def commands(task: str, run: Path, out: Path) -> list[list]:
    """Every command that loads a checkpoint of ``task``, on the run directory ``run``."""
    resume = ["--resume", run, "--max-steps", 9, "--no-progress"]
    if task == "lm":
        text = DATA_ROOT / "text.txt"
        return [
            ["sample", run, "--length", 5],
            ["eval", run / "latest.safetensors", "--json"],
            ["visualize", run, "--text", text, "--out", out / "v.html"],
            ["diagnose", run, "--steps", 4, "--batch-size", 2, "--out", out / "diag"],
            ["train", *resume, "--sample-length", 0],
        ]
    sentences = run.parent / "sentences.txt"
    first = ["predict", run, "good movie one"] if task == "classify" else ["tag", run, sentences]
    return [first, ["eval", run], ["train", task, *resume]]


def snapshot(run: Path) -> dict:
    """What must not change: each entry's kind, size, mtime and the sha256 of its first MiB."""
    state = {}
    for p in sorted(run.iterdir()):
        st = os.lstat(p)
        head = b""
        if p.is_file() and not p.is_symlink():
            with open(p, "rb") as f:
                head = f.read(1 << 20)
        state[p.name] = (st.st_mode, st.st_size, st.st_mtime_ns, hashlib.sha256(head).hexdigest())
    return state


def both(run: Path, craft) -> None:
    """Apply ``craft(path)`` to the run's latest and best checkpoints."""
    for name in ("latest.safetensors", "best.safetensors"):
        craft(run / name)


#: The commands whose line must carry the case's own message; diagnose and train --resume have checks of
#: their own that may answer first (a kind diagnose cannot use, a vocabulary resume rebuilt differently).
NAMED = ("sample", "predict", "tag", "eval", "visualize")


def refused_everywhere(task: str, run: Path, out: Path, fragment: str, skip: tuple[str, ...] = ()) -> int:
    """Run every loading command on the crafted run: one line, exit 2, nothing changed; the inference
    commands' line names the run (or its file) and contains ``fragment``."""
    before = snapshot(run)
    tried = 0
    for argv in commands(task, run, out):
        if argv[0] in skip:
            continue
        code, stdout, err = cli(*argv)
        if argv[0] in NAMED:
            line = assert_error((code, stdout, err), fragment)
            assert str(run) in line, line
        else:
            assert_error((code, stdout, err))
        assert stdout == "", (argv, stdout)
        tried += 1
    assert snapshot(run) == before
    return tried


@pytest.fixture
def copy_of(runs, tmp_path):
    def copy(task: str) -> Path:
        run = Path(shutil.copytree(runs[task], tmp_path / task))
        (tmp_path / "sentences.txt").write_text("the cat sees a dog\na bird eats\n", encoding="utf-8")
        return run

    return copy


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
    "rnn-int": ("lm", at("model.config.rnn", 5), "expected a RecurrentConfig, got 5"),
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


#: Edits the run driver's resume does not see today: it rebuilds the model from the stored run config
#: and the re-read data, never from model / labels / tags, and trains on (exit 0), rewriting the
#: checkpoints consistently. It should call rnnkit.tasks.check_checkpoint first (tasks/driver.py,
#: the trainer maintainer's file); test_resume_checks_the_whole_checkpoint_first says so.
RESUME_UNCHECKED = {
    *(c for c in META_CASES if c.startswith(("hidden-", "layers-", "vocab-size-", "cell-", "classifier-t"))),
    *("kind-unknown", "kind-of-classifier", "embedding-one-hot", "proj-huge", "dropout-big", "dropout-nan"),
    *("tie-without-sizes", "rnn-int", "config-unknown-key", "config-tagged-dict", "labels-missing"),
    *("labels-three", "classes-huge", "classifier-pooling-bad", "tags-missing", "tags-fewer"),
    *("tagger-char-features", "tagger-char-hidden-huge", "tagger-bidirectional-off", "v0-hidden-huge", "v0-tags-fewer"),
}
#: diagnose reads ``meta["model"]["kind"]`` itself before loading (cli/diagnose.py): a list there is an
#: AttributeError; test_diagnose_checks_the_checkpoint_first says so.
DIAGNOSE_UNCHECKED = {"model-list"}


def skipped(case: str) -> tuple[str, ...]:
    return (("train",) if case in RESUME_UNCHECKED else ()) + (("diagnose",) if case in DIAGNOSE_UNCHECKED else ())


@pytest.mark.parametrize("case", list(META_CASES))
def test_edited_and_resigned_metadata_is_refused_in_one_line(copy_of, tmp_path, case):
    task, edit, fragment = META_CASES[case]
    run = copy_of(task)
    both(run, lambda p: resign(p, edit_meta(edit)))
    assert refused_everywhere(task, run, tmp_path, fragment, skip=skipped(case))


@pytest.mark.xfail(reason="tasks/driver.py resume does not call rnnkit.tasks.check_checkpoint yet", strict=False)
@pytest.mark.parametrize("case", ["hidden-wrong", "labels-three", "tags-fewer"])
def test_resume_checks_the_whole_checkpoint_first(copy_of, tmp_path, case):
    task, edit, fragment = META_CASES[case]
    run = copy_of(task)
    both(run, lambda p: resign(p, edit_meta(edit)))
    verb = [] if task == "lm" else [task]
    before = snapshot(run)
    assert_error(cli("train", *verb, "--resume", run, "--max-steps", 9, "--no-progress"), fragment)
    assert snapshot(run) == before


@pytest.mark.xfail(reason="cli/diagnose.py reads meta['model'] before rnnkit.tasks.check_checkpoint", strict=False)
def test_diagnose_checks_the_checkpoint_first(copy_of, tmp_path):
    run = copy_of("lm")
    both(run, lambda p: resign(p, edit_meta(at("model", [1, 2]))))
    assert_error(cli("diagnose", run, "--steps", 4, "--out", tmp_path), "has no model description")


def test_a_meta_that_is_not_an_object_is_refused(copy_of, tmp_path):
    run = copy_of("lm")
    both(run, lambda p: resign(p, lambda doc, tensors: doc.update(meta=[1, 2])))
    refused_everywhere("lm", run, tmp_path, "its metadata is a list", skip=("diagnose",))


def test_valid_source_digests_are_accepted(copy_of):
    run = copy_of("lm")
    both(run, lambda p: resign(p, edit_meta(at("config.source_digests", [GOOD_DIGEST]))))
    assert ok("sample", run, "--length", 5, "--seed", 1)


# ----- tensor edits, signed again -----------------------------------------------------------------
def replace(name: str, make):
    def edit(doc, tensors):
        tensors[name] = make(tensors[name])

    return edit


def add_tensor(doc, tensors):
    tensors["model.bogus"] = torch.zeros(3)
    doc["model"].append("bogus")


def remove_tensor(doc, tensors):
    del tensors["model.head.bias"]
    doc["model"].remove("head.bias")


def ghost_key(doc, tensors):
    doc["model"].append("ghost")


def poison(value: float):
    def make(t):
        t = t.clone()
        t.view(-1)[0] = value
        return t

    return make


TENSOR_CASES = {
    "shape-wrong": ("lm", replace("model.head.weight", lambda t: torch.zeros(5, 5)), "has shape [5, 5]"),
    "shape-transposed": ("lm", replace("model.head.weight", lambda t: t.t().contiguous()), "has shape"),
    "shape-scalar": ("lm", replace("model.head.bias", lambda t: torch.zeros(())), "has shape []"),
    "shape-empty": ("lm", replace("model.head.bias", lambda t: torch.zeros(0)), "has shape [0]"),
    "dtype-float64": ("lm", replace("model.head.weight", lambda t: t.double()), "has dtype"),
    "dtype-int": ("lm", replace("model.head.bias", lambda t: t.long()), "has dtype"),
    "dtype-half": ("lm", replace("model.embedding.weight", lambda t: t.half()), "has dtype"),
    "dtype-bool": ("lm", replace("model.head.bias", lambda t: t > 0), "has dtype"),
    "extra-tensor": ("lm", add_tensor, "'bogus' is not part of the model"),
    "missing-tensor": ("lm", remove_tensor, "'head.bias' is missing"),
    "key-without-tensor": ("lm", ghost_key, "is malformed"),
    "nan-weight": ("lm", replace("model.head.weight", poison(math.nan)), "holds NaN or infinite values"),
    "inf-weight": ("lm", replace("model.rnn.weight_hh_l0", poison(math.inf)), "holds NaN or infinite values"),
    "nan-classifier": ("classify", replace("model.head.bias", poison(math.nan)), "holds NaN or infinite values"),
    "inf-tagger": ("tag", replace("model.embedding.weight", poison(-math.inf)), "holds NaN or infinite values"),
    "classifier-shape": ("classify", replace("model.embedding.weight", lambda t: torch.zeros(3, 4)), "has shape"),
    "tagger-missing-reverse": ("tag", lambda d, t: (t.pop("model.rnn.bias_hh_l0_reverse"), None), "is malformed"),
}
#: What the run driver's resume does not check yet: it should call rnnkit.tasks.loading.check_checkpoint
#: (tasks/driver.py, owned by the trainer's maintainer); until then resume fails there with a traceback
#: or trains on (NaN weights stop training with exit 1).
RESUME_UNCHECKED_TENSORS = {
    case for case in TENSOR_CASES if case not in ("key-without-tensor", "tagger-missing-reverse")
}


@pytest.mark.parametrize("case", list(TENSOR_CASES))
def test_tensors_that_do_not_fit_the_config_are_refused_in_one_line(copy_of, tmp_path, case):
    task, edit, fragment = TENSOR_CASES[case]
    run = copy_of(task)
    both(run, lambda p: resign(p, edit))
    refused_everywhere(task, run, tmp_path, fragment, skip=("train",) if case in RESUME_UNCHECKED_TENSORS else ())


@pytest.mark.xfail(reason="tasks/driver.py resume does not call rnnkit.tasks.check_checkpoint yet", strict=False)
@pytest.mark.parametrize("case", ["shape-wrong", "extra-tensor"])
def test_resume_refuses_tensors_that_do_not_fit(copy_of, tmp_path, case):
    task, edit, fragment = TENSOR_CASES[case]
    run = copy_of(task)
    both(run, lambda p: resign(p, edit))
    assert_error(cli("train", "--resume", run, "--max-steps", 9, "--no-progress", "--sample-length", 0), fragment)


@pytest.mark.xfail(reason="Trainer.resume does not call rnnkit.tasks.check_finite_weights yet", strict=False)
def test_resume_refuses_non_finite_weights(copy_of):
    run = copy_of("lm")
    both(run, lambda p: resign(p, TENSOR_CASES["nan-weight"][1]))
    resume = ["train", "--resume", run, "--max-steps", 9, "--no-progress", "--sample-length", 0]
    assert_error(cli(*resume), "holds NaN or infinite values")


def test_weights_so_large_that_sampling_overflows_are_one_line(copy_of):
    run = copy_of("lm")
    both(run, lambda p: resign(p, replace("model.head.weight", lambda t: t.sign() * 3e38)))
    before = snapshot(run)
    line = assert_error(cli("sample", run, "--length", 5), "next-token scores are NaN or infinite")
    assert "probability tensor" not in line
    assert_error(cli("sample", run, "--length", 5, "--greedy"), "next-token scores are NaN or infinite")
    assert snapshot(run) == before


# ----- damaged headers and files (not signable: the integrity checks answer) --------------------
def set_length(value: int):
    def craft(p: Path) -> None:
        raw = bytearray(p.read_bytes())
        raw[:8] = value.to_bytes(8, "little")
        p.write_bytes(bytes(raw))

    return craft


def entry_edit(**changes):
    def craft(p: Path) -> None:
        edit_header(p, lambda h: h["model.head.weight"].update(changes))

    return craft


def raw_bytes(data: bytes):
    return lambda p: p.write_bytes(data)


def truncate_to(fraction: float):
    return lambda p: p.write_bytes(p.read_bytes()[: int(p.stat().st_size * fraction)])


def nested_header(p: Path) -> None:
    text = b"[" * 200_000 + b"]" * 200_000
    p.write_bytes(len(text).to_bytes(8, "little") + text)


def alias_to_nothing(p: Path) -> None:
    resign_header(p, lambda header, doc: doc["aliases"].update({"model.head.weight": "model.nothing"}))


def alias_unhashable(p: Path) -> None:
    resign_header(p, lambda header, doc: doc["aliases"].update({"model.x": ["model.head.weight"]}))


FILE_CASES = {
    "length-2^63": (set_length(1 << 63), "header length"),
    "length-zero": (set_length(0), "is truncated or corrupted"),
    "length-past-end": (lambda p: set_length(p.stat().st_size)(p), "header length"),
    "entry-shape-huge": (entry_edit(shape=[1 << 40, 1 << 20]), "is not its"),
    "entry-shape-negative": (entry_edit(shape=[-23, -8]), "expected a list of sizes >= 0"),
    "entry-shape-str": (entry_edit(shape="23x8"), "expected a list of sizes >= 0"),
    "entry-dtype-unknown": (entry_edit(dtype="F128"), "has dtype 'F128'"),
    "entry-dtype-int": (entry_edit(dtype=4), "has dtype 4"),
    "entry-offsets-negative": (entry_edit(data_offsets=[-8, 0]), "is malformed"),
    "entry-offsets-floats": (entry_edit(data_offsets=[0.0, 8.0]), "is malformed"),
    "entry-offsets-past-end": (entry_edit(data_offsets=[0, 1 << 50]), "is not its 1125899906842624 bytes"),
    "entry-not-object": (lambda p: edit_header(p, lambda h: h.update({"model.head.weight": 5})), "is malformed"),
    "metadata-not-str": (lambda p: edit_header(p, lambda h: h.update({"__metadata__": {"rnnkit": 5}})), "not valid"),
    "header-list": (raw_bytes(b"\x02\x00\x00\x00\x00\x00\x00\x00[]"), "expected a JSON object as header"),
    "header-not-json": (raw_bytes(b"\x04\x00\x00\x00\x00\x00\x00\x00{{{{"), "header is not valid JSON"),
    "header-not-utf8": (raw_bytes(b"\x04\x00\x00\x00\x00\x00\x00\x00\xff\xfe\xfd\xfc"), "not valid JSON"),
    "header-nested": (nested_header, "nested too deeply"),
    "alias-to-nothing": (alias_to_nothing, "points at missing tensor"),
    "alias-unhashable": (alias_unhashable, "'aliases' are not all tensor names"),
    "truncated-half": (truncate_to(0.5), "is truncated or corrupted"),
    "truncated-7": (raw_bytes(b"\x00" * 7), "shorter than the 8-byte header length"),
    "empty": (raw_bytes(b""), "the file is empty"),
    "text-file": (raw_bytes(b"just some text, not a checkpoint\n"), "is truncated or corrupted"),
    "zip-file": (raw_bytes(b"PK\x03\x04" + b"\x00" * 60), "is truncated or corrupted"),
    "flipped-data-byte": (lambda p: p.write_bytes(p.read_bytes()[:-3] + b"\xff\xff\xff"), "does not match"),
    "grown-by-one": (lambda p: p.write_bytes(p.read_bytes() + b"\x00"), "its header describes"),
    "symlink-dev-zero": (lambda p: (p.unlink(), p.symlink_to("/dev/zero")), "is not a regular file"),
    "fifo": (lambda p: (p.unlink(), os.mkfifo(p)), "is not a regular file"),
    "directory": (lambda p: (p.unlink(), p.mkdir()), "is a directory"),
    "dangling-symlink": (lambda p: (p.unlink(), p.symlink_to(p.parent / "nowhere")), ".safetensors"),
}


@pytest.mark.parametrize("case", list(FILE_CASES))
def test_damaged_and_foreign_files_are_refused_in_one_line(copy_of, tmp_path, case):
    craft, fragment = FILE_CASES[case]
    run = copy_of("lm")
    both(run, craft)
    assert refused_everywhere("lm", run, tmp_path, fragment)


def sparse_or_skip(p: Path, size: int) -> None:
    try:
        with open(p, "r+b") as f:
            f.truncate(size)
    except (OSError, OverflowError) as e:
        pytest.skip(f"this file system cannot hold a sparse {size}-byte file ({e})")
    if os.stat(p).st_blocks * 512 > 1 << 30:
        pytest.skip("this file system does not keep files sparse")


def test_a_sparse_1_tib_file_is_refused_before_it_is_read(copy_of, tmp_path):
    run = copy_of("lm")
    both(run, lambda p: sparse_or_skip(p, TIB))
    assert refused_everywhere("lm", run, tmp_path, "its header describes")
    for fn in (load_checkpoint, read_meta):
        with pytest.raises(CheckpointError, match="its header describes"):
            fn(run / "latest.safetensors")


def huge_tensor(p: Path) -> None:
    """A 1 TiB tensor, correctly described: the header passes, the data is a sparse hole."""

    def edit(header, doc):
        end = max(e["data_offsets"][1] for k, e in header.items() if k != "__metadata__")
        header["model.huge"] = {"dtype": "F32", "shape": [TIB // 4], "data_offsets": [end, end + TIB]}
        doc["model"].append("huge")

    start = resign_header(p, edit)
    sparse_or_skip(p, p.stat().st_size + TIB)
    assert p.stat().st_size == start + TIB + (p.stat().st_size - start - TIB)


def test_a_correctly_described_1_tib_tensor_is_refused_before_allocating(copy_of, tmp_path):
    run = copy_of("lm")
    both(run, huge_tensor)
    assert refused_everywhere("lm", run, tmp_path, "'huge' is not part of the model", skip=("train",))
    with pytest.raises(CheckpointError, match="expected a checkpoint that fits in memory"):
        load_checkpoint(run / "latest.safetensors")


# ----- rnnkit 0.1 checkpoints, edited: migrated first, then checked -------------------------------
V0_CASES = {
    "v0-flat-unknown-key": ("lm", at("model.config.bogus", 1), "unknown key(s) ['bogus']"),
    "v0-flat-hidden-str": ("lm", at("model.config.hidden_size", "8"), "expected a int"),
    "v0-config-list": ("lm", at("model.config", [1]), "model.config is a list"),
    "v0-hidden-huge": ("lm", at("model.config.hidden_size", 10**12), "more than"),
    "v0-vocab-fewer": ("lm", at("vocab.chars", list("abc")), "vocab_size is 23; expected 3"),
    "v0-run-config-model-bad": ("lm", at("config.model.hidden_size", "x"), "expected a int"),
    "v0-tags-fewer": ("tag", at("tags", ["DET"]), "num_tags is 3; expected 1"),
}


@pytest.mark.parametrize("case", list(V0_CASES))
def test_edited_v0_checkpoints_are_refused_in_one_line(tmp_path, case):
    task, edit, fragment = V0_CASES[case]
    DATA_ROOT.mkdir(parents=True, exist_ok=True)
    for name in ("text.txt", "cls.tsv", "tag.tsv"):
        shutil.copy(V0 / name, DATA_ROOT / name)
    run = Path(shutil.copytree(V0 / ("char_lm" if task == "lm" else task), tmp_path / task))
    (tmp_path / "sentences.txt").write_text("the cat sees a dog\n", encoding="utf-8")
    both(run, lambda p: resign(p, edit_meta(edit)))
    refused_everywhere(task, run, tmp_path / "out", fragment, skip=skipped(case))


def test_the_unedited_v0_fixtures_still_load():
    for name in ("char_lm", "word_lm", "classify", "tag"):
        from rnnkit.tasks import check_checkpoint

        assert check_checkpoint(V0 / name).task == {"char_lm": "lm", "word_lm": "lm"}.get(name, name)


def test_the_resign_helper_makes_files_that_load(copy_of):
    """The corpus is only hostile where it is edited: an identity edit loads and samples."""
    run = copy_of("lm")
    both(run, lambda p: resign(p, lambda doc, tensors: None))
    assert ok("sample", run, "--length", 5, "--seed", 1)
    assert _document_digest and _dumps  # the helpers the crafting uses
