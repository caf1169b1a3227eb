"""Every bad input of the command line: exit code 2 and one line on stderr, never a traceback,
never a touched checkpoint."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from rnnkit.checkpoint import load_checkpoint, read_meta
from rnnkit.checkpoint.container import _document_digest, _dumps

from ._harness import assert_error, cli
from ._runs import TINY, corpus_text, files, one_thread


# ----- bad data -----------------------------------------------------------------------------------
def train_on(path, run: Path, *extra):
    return cli("train", path, "--run-dir", run, "--max-steps", 2, "--sample-length", 0, *TINY, *extra)


def test_nonexistent_path(tmp_path):
    assert_error(train_on(tmp_path / "nope.txt", tmp_path / "r"), "data: no such file or directory", "nope.txt")
    assert not (tmp_path / "r" / "latest.safetensors").exists()


def test_directory_without_text_files(tmp_path):
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "notes.md").write_text("hello")
    assert_error(train_on(tmp_path / "d", tmp_path / "r"), "no .txt files in directory")


def test_empty_file(tmp_path):
    (tmp_path / "e.txt").write_bytes(b"")
    assert_error(train_on(tmp_path / "e.txt", tmp_path / "r"), "e.txt is empty")


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("hi", "data: 2 tokens are too few to split"),
        ("the cat sat on the mat " * 2, "tokens give fewer than 2 tokens per stream for batch size 40"),
    ],
)
def test_file_shorter_than_one_window(tmp_path, text, fragment):
    (tmp_path / "s.txt").write_text(text)
    assert_error(train_on(tmp_path / "s.txt", tmp_path / "r", "--batch-size", 40), fragment)


def test_non_utf8_bytes_name_the_offset_and_replace_works(tmp_path):
    path = tmp_path / "latin.txt"
    path.write_bytes(corpus_text().encode()[:100] + b"caf\xe9 " + corpus_text(seed=1).encode())
    line = assert_error(
        train_on(path, tmp_path / "r"), "is not valid utf-8 at byte offset 103", "0xe9", "--errors replace"
    )
    assert str(path) in line
    with one_thread():
        code, _, err = train_on(path, tmp_path / "r", "--errors", "replace")
    assert code == 0, err
    assert "\ufffd" in read_meta(tmp_path / "r" / "latest.safetensors")["vocab"]["chars"]
    with one_thread():
        assert train_on(path, tmp_path / "r2", "--encoding", "latin-1")[0] == 0


# ----- bad checkpoints ----------------------------------------------------------------------------
def break_checkpoint(path: Path, how: str) -> None:
    data = bytearray(path.read_bytes())
    if how == "truncated":
        path.write_bytes(bytes(data[: len(data) * 2 // 3]))
    elif how == "corrupted":
        data[-5] ^= 0xFF  # one byte of tensor data
        path.write_bytes(bytes(data))
    elif how == "version":
        # a checkpoint from another format version, its checksum valid: rewrite the header document
        n = int.from_bytes(data[:8], "little")
        header = json.loads(data[8 : 8 + n])
        doc = json.loads(header["__metadata__"]["rnnkit"])
        doc["format_version"] = 2
        doc["sha256"] = _document_digest(doc)
        header["__metadata__"]["rnnkit"] = _dumps(doc)
        raw = json.dumps(header, separators=(",", ":")).encode()
        path.write_bytes(len(raw).to_bytes(8, "little") + raw + bytes(data[8 + n :]))
    else:
        raise AssertionError(how)


MESSAGES = {
    "truncated": "is truncated or corrupted",
    "corrupted": "tensor data does not match its checksum; the file is corrupted",
    "version": "has format version 2; expected 1",
}


@pytest.mark.parametrize("how", list(MESSAGES))
def test_broken_checkpoints_fail_cleanly_and_stay_untouched(copied_run, how):
    best, latest = copied_run / "best.safetensors", copied_run / "latest.safetensors"
    break_checkpoint(best, how)
    break_checkpoint(latest, how)
    before = files(copied_run)
    for argv in (
        ["sample", copied_run, "--length", 5],
        ["sample", best, "--length", 5],
        ["eval", copied_run],
        ["eval", latest, "--json"],
        ["train", "--resume", copied_run, "--max-steps", 9, "--no-progress", "--sample-length", 0],
    ):
        code, out, err = cli(*argv)
        assert out == ""
        line = assert_error((code, out, err), MESSAGES[how])
        assert "checkpoint: " in line and ".safetensors" in line  # names the file
    assert files(copied_run) == before


def test_version_check_is_not_just_a_checksum_failure(copied_run):
    """The crafted other-version file is otherwise valid: with the version put back, it loads."""
    latest = copied_run / "latest.safetensors"
    original = load_checkpoint(latest).model_state
    break_checkpoint(latest, "version")
    data = bytearray(latest.read_bytes())
    n = int.from_bytes(data[:8], "little")
    header = json.loads(data[8 : 8 + n])
    doc = json.loads(header["__metadata__"]["rnnkit"])
    doc["format_version"] = 1
    doc["sha256"] = _document_digest(doc)
    header["__metadata__"]["rnnkit"] = _dumps(doc)
    raw = json.dumps(header, separators=(",", ":")).encode()
    latest.write_bytes(len(raw).to_bytes(8, "little") + raw + bytes(data[8 + n :]))
    restored = load_checkpoint(latest).model_state
    assert all(torch.equal(restored[k], original[k]) for k in original)


def test_missing_checkpoint(tmp_path):
    assert_error(cli("sample", tmp_path / "nothing"), "checkpoint: no such file")
    (tmp_path / "empty_run").mkdir()
    assert_error(cli("eval", tmp_path / "empty_run"), "is a directory without best.safetensors or latest.safetensors")
    assert_error(cli("train", "--resume", tmp_path / "empty_run", "--no-progress"), "checkpoint: no such file")


def test_vocabulary_mismatch_on_resume(data_dir, tmp_path):
    data = tmp_path / "corpus.txt"
    data.write_text(corpus_text())
    run = tmp_path / "r"
    with one_thread():
        assert train_on(data, run)[0] == 0
    data.write_text("QXZ! " + corpus_text())  # resume re-reads the stored source path
    before = files(run)
    assert_error(
        cli("train", "--resume", run, "--max-steps", 4, "--no-progress"),
        "resume: the vocabulary built from",
        "differs from the checkpoint's",
        "expected the same training data",
    )
    assert files(run) == before


# ----- bad options --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "argv, fragment",
    [
        (["--temperature", "0"], "temperature: expected a number > 0"),
        (["--temperature", "-0.5"], "temperature: expected a number > 0"),
        (["--top-k", "0"], "top-k: expected an integer >= 1, got 0"),
        (["--top-k", "-3"], "top-k: expected an integer >= 1, got -3"),
        (["--top-p", "0"], "top-p: expected a number in (0, 1], got 0.0"),
        (["--top-p", "1.5"], "top-p: expected a number in (0, 1], got 1.5"),
        (["--length", "-1"], "length: expected an integer >= 0, got -1"),
        (["--num-samples", "0"], "num-samples: expected an integer >= 1, got 0"),
        (["--temperature", "warm"], "argument --temperature: invalid float value: 'warm'"),
        (["--colour", "red"], "unrecognized arguments: --colour red"),
    ],
)
def test_bad_sampling_options(run, argv, fragment):
    code, out, err = cli("sample", run, *argv)
    assert out == ""
    assert_error((code, out, err), fragment)


@pytest.mark.parametrize(
    "toml, fragment",
    [
        ("[train]\nlr = 0.1\ncolour = 1\n", "config: unknown key(s) ['colour'] in [train]"),
        ("[model]\nhidden = 8\n", "config: unknown key(s) ['hidden'] in [model]"),
        ("[optimiser]\nlr = 0.1\n", "config: unknown table(s) ['optimiser']"),
        ("[train]\nlr = 'fast'\n", "config: [train] key 'lr': expected a float, got 'fast'"),
        ("[train\nlr = 0.1\n", "is not valid TOML"),
    ],
)
def test_bad_config_files(data_dir, tmp_path, toml, fragment):
    config = tmp_path / "bad.toml"
    config.write_text(toml)
    assert_error(train_on(data_dir / "corpus.txt", tmp_path / "r", "--config", config), fragment)
    assert not (tmp_path / "r" / "latest.safetensors").exists()


@pytest.mark.parametrize(
    "argv, fragment",
    [
        (["train", "--bogus"], "unrecognized arguments: --bogus"),
        (["train", "x.txt", "--cell", "transformer"], "argument --cell: invalid choice: 'transformer'"),
        (["train", "x.txt", "--max-steps", "ten"], "argument --max-steps: invalid int value: 'ten'"),
        (["train", "x.txt", "--config", "missing.toml"], "config: no such file: missing.toml"),
        (["frobnicate"], "invalid choice: 'frobnicate'"),
        (["eval", "run", "--batch-size", "0"], "eval: expected --batch-size and --seq-len >= 1"),
    ],
)
def test_bad_flags(argv, fragment):
    assert_error(cli(*argv), fragment)


def test_bad_training_values(data_dir, tmp_path):
    assert_error(train_on(data_dir / "corpus.txt", tmp_path / "r", "--lr", "-1"), "train: expected lr > 0")
    assert_error(
        train_on(data_dir / "corpus.txt", tmp_path / "r", "--dropout", "1.5"), "model: expected dropout in [0, 1)"
    )
    assert_error(
        train_on(data_dir / "corpus.txt", tmp_path / "r", "--split", "0.5,0.5"),
        "expected three comma-separated fractions",
    )
    assert_error(
        train_on(data_dir / "corpus.txt", tmp_path / "r", "--tie-weights"),
        "tie_weights needs embedding_size == hidden_size",
    )


def test_no_command_prints_help():
    code, out, err = cli()
    assert code == 2 and "usage: rnnkit" in err and "Traceback" not in err


def test_subprocess_exit_code_and_no_traceback(tmp_path):
    """The real entry point, in a fresh interpreter: exit code 2, one clean line on stderr."""
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"ok \xff\xfe then more text\n" * 20)
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    result = subprocess.run(
        [sys.executable, "-m", "rnnkit.cli.main", "train", str(bad), "--run-dir", str(tmp_path / "r"), "--no-progress"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines() == [
        f"rnnkit: error: data: {bad} is not valid utf-8 at byte offset 3 (byte 0xff); pass --encoding ENCODING "
        "or --errors replace"
    ]
    assert result.stdout == ""
