"""A hostile corpus, part 2: tensors edited and signed again, damaged headers, truncated, huge,
sparse and non-regular files. Every command that loads a checkpoint (sample, predict, tag,
eval, visualize, diagnose, train --resume) must answer each with exactly one line, exit code 2, no
traceback, and leave every file of the run as it was; nothing from the file ever runs."""

from __future__ import annotations

import math
import os
from pathlib import Path

import pytest
import torch

from rnnkit.checkpoint import CheckpointError, load_checkpoint, read_meta
from tests.checkpoint._crafting import edit_header, resign, resign_header
from tests.checkpoint._hostile import TIB, both, refused_everywhere, snapshot
from tests.cli._harness import assert_error, cli


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


@pytest.mark.parametrize("case", list(TENSOR_CASES))
def test_tensors_that_do_not_fit_the_config_are_refused_in_one_line(copy_of, tmp_path, case):
    task, edit, fragment = TENSOR_CASES[case]
    run = copy_of(task)
    both(run, lambda p: resign(p, edit))
    refused_everywhere(task, run, tmp_path, fragment)


@pytest.mark.parametrize("case", ["shape-wrong", "extra-tensor"])
def test_resume_refuses_tensors_that_do_not_fit(copy_of, tmp_path, case):
    task, edit, fragment = TENSOR_CASES[case]
    run = copy_of(task)
    both(run, lambda p: resign(p, edit))
    assert_error(cli("train", "--resume", run, "--max-steps", 9, "--no-progress", "--sample-length", 0), fragment)


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


def test_a_file_larger_than_the_memory_available_is_refused_before_it_is_read(copy_of, monkeypatch):
    import rnnkit.checkpoint.container as container

    run = copy_of("lm")
    path = run / "latest.safetensors"
    monkeypatch.setattr(container, "available_memory", lambda: path.stat().st_size)  # half of what it needs
    with pytest.raises(CheckpointError, match=r"needs about .* of memory, .* is available; expected a checkpoint"):
        load_checkpoint(path)
    read_meta(path)  # the header alone is still read
    monkeypatch.setattr(container, "available_memory", lambda: None)  # unknown: no bound
    assert load_checkpoint(path).meta["step"] == 6
