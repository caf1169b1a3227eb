"""The command line end to end (train -> sample -> eval in seconds), configuration layering, and
every bad input: exit code 2 and one line on stderr, never a traceback, never a touched checkpoint."""

import contextlib
import json
import math
import os
import random
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from rnnkit.checkpoint import load_checkpoint, read_meta
from rnnkit.checkpoint.container import _document_digest, _dumps

from ._harness import assert_error, cli

WORDS = "the cat sat on a mat and ran to see her dog who was not there at all today".split()
NAMES = ["anna", "bob", "carl", "dora", "emma", "finn", "gus"]
TINY = [
    "--hidden-size",
    "16",
    "--num-layers",
    "1",
    "--embedding-size",
    "8",
    "--batch-size",
    "4",
    "--seq-len",
    "20",
    "--device",
    "cpu",
    "--no-progress",
]


def corpus_text(lines: int = 70, seed: int = 0) -> str:
    rng = random.Random(seed)
    return "\n".join(" ".join(rng.choice(WORDS) for _ in range(rng.randint(4, 9))) for _ in range(lines)) + "\n"


@contextlib.contextmanager
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def files(run: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(run.iterdir()) if p.is_file()}


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("data")
    (d / "corpus.txt").write_text(corpus_text())  # ~1.7 KB
    rng = random.Random(1)
    (d / "names.txt").write_text("\n".join(rng.choice(NAMES) for _ in range(300)) + "\n")
    return d


@pytest.fixture(scope="module")
def run(data_dir, tmp_path_factory) -> Path:
    """A character model trained for 6 steps (checkpoints at steps 3 and 6)."""
    run = tmp_path_factory.mktemp("runs") / "chars"
    with one_thread():
        code, out, err = cli(
            "train",
            data_dir / "corpus.txt",
            "--run-dir",
            run,
            "--max-steps",
            6,
            "--eval-every",
            3,
            "--log-every",
            2,
            "--sample-length",
            20,
            *TINY,
        )
    assert code == 0, err
    assert "Traceback" not in err
    return run


@pytest.fixture
def copied_run(run, tmp_path) -> Path:
    """A private copy of the trained run, to break."""
    return Path(shutil.copytree(run, tmp_path / "copy"))


# ----- end to end ---------------------------------------------------------------------------------
def test_train_writes_a_complete_run(run, data_dir):
    names = set(os.listdir(run))
    assert {
        "config.json",
        "metrics.jsonl",
        "curves.png",
        "best.safetensors",
        "best.json",
        "latest.safetensors",
        "latest.json",
    } <= names
    assert read_meta(run / "latest.safetensors")["step"] == 6
    config = json.loads((run / "config.json").read_text())  # the resolved configuration
    assert set(config) >= {"data", "model", "train", "source"}
    assert config["source"] == [str((data_dir / "corpus.txt").resolve())]
    assert config["model"]["rnn"]["hidden_size"] == 16 and config["model"]["vocab_size"] > 10
    assert config["train"]["max_steps"] == 6 and config["data"]["batch_size"] == 4
    stored = read_meta(run / "best.safetensors")["config"]  # and inside every checkpoint (tuples kept)
    assert json.loads(json.dumps(stored)) == config
    kinds = {json.loads(line)["kind"] for line in (run / "metrics.jsonl").read_text().splitlines()}
    assert kinds == {"train", "eval"}


def test_train_prints_a_sample_at_the_end(data_dir, tmp_path):
    with one_thread():
        code, out, err = cli(
            "train",
            data_dir / "corpus.txt",
            "--run-dir",
            tmp_path / "r",
            "--max-steps",
            2,
            "--sample-length",
            25,
            *TINY,
        )
    assert code == 0
    assert len(out.rstrip("\n")) >= 20  # 25 characters (a newline may end it)
    assert "a sample from" in err and "stopped: reached max_steps=2 at step 2" in err


def test_sample(run):
    code, out, err = cli("sample", run, "--prime", "the ", "--length", 30, "--seed", 1)
    assert code == 0 and err == ""
    assert out.startswith("the ") and out.endswith("\n")
    assert len(out) == len("the ") + 30 + 1
    assert cli("sample", run, "--prime", "the ", "--length", 30, "--seed", 1)[1] == out  # seeded
    assert cli("sample", run / "latest.safetensors", "--prime", "the ", "--length", 30, "--seed", 2)[1] != out
    code, out, _ = cli("sample", run, "--prime", "a", "--length", 10, "--seed", 1, "--num-samples", 3)
    # sample i uses seed + i; samples are separated by a blank line
    each = [cli("sample", run, "--prime", "a", "--length", 10, "--seed", s)[1][:-1] for s in (1, 2, 3)]
    assert code == 0 and out == "\n\n".join(each) + "\n"
    code, out, _ = cli("sample", run, "--prime", "the", "--length", 5, "--greedy")
    assert code == 0 and len(out) == 3 + 5 + 1


def test_sample_without_a_compiler_warns_in_one_line_and_samples_the_same(run, tmp_path, monkeypatch):
    from rnnkit.cells import compiled

    expected = cli("sample", run, "--prime", "the ", "--length", 30, "--seed", 1)[1]
    monkeypatch.setenv("RNNKIT_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("CXX", "no-such-compiler-rnnkit")
    for state in ("_libraries", "_reasons", "_functions"):
        monkeypatch.setattr(compiled, state, {})
    monkeypatch.setattr(compiled, "_enabled", True)
    code, out, err = cli("sample", run, "--prime", "the ", "--length", 30, "--seed", 1)
    assert code == 0
    assert err.splitlines() == [
        "rnnkit: warning: compiled lstm kernel unavailable, using eager PyTorch ops: "
        "no C++ compiler found (looked for 'no-such-compiler-rnnkit'; set $CXX)"
    ]
    assert out == expected  # the eager ops sample the same text


def test_sample_prime_file_and_unknown_skip(run, tmp_path):
    prime = tmp_path / "prime.txt"
    prime.write_text("the dog")
    code, out, _ = cli("sample", run, "--prime-file", prime, "--length", 5, "--seed", 0)
    assert code == 0 and out.startswith("the dog")
    assert_error(
        cli("sample", run, "--prime", "the Zeta", "--length", 5), "characters not in the vocabulary: 'Z' (1 distinct)"
    )
    code, out, _ = cli("sample", run, "--prime", "the Zeta", "--length", 5, "--unknown", "skip", "--seed", 0)
    assert code == 0 and out.startswith("the Zeta")  # the prime is echoed as given
    assert_error(cli("sample", run, "--prime-file", tmp_path / "nope.txt"), "prime-file: no such file")


def test_eval(run, data_dir):
    code, out, err = cli("eval", run)
    assert code == 0
    line = out.strip()
    assert line.startswith("the test split: ") and "nats/symbol" in line and "bits/symbol" in line
    assert "perplexity" in line and "predictions" in line
    code, out, _ = cli("eval", run, "--json")
    assert code == 0
    report = json.loads(out)
    assert set(report) == {"loss", "bits", "perplexity", "tokens"}
    assert report["bits"] == pytest.approx(report["loss"] / math.log(2))
    assert report["perplexity"] == pytest.approx(math.exp(report["loss"]))
    assert f"{report['loss']:.4f} nats/symbol" in line
    # another split, and a file
    val = json.loads(cli("eval", run, "--split", "val", "--json")[1])
    assert val["tokens"] > 0 and val["loss"] != report["loss"]
    code, out, _ = cli("eval", run, "--data", data_dir / "corpus.txt", "--json")
    assert code == 0 and json.loads(out)["tokens"] == len(corpus_text()) - 1


def test_line_mode_trains_and_samples_lines(data_dir, tmp_path):
    run = tmp_path / "names"
    with one_thread():
        code, _, err = cli(
            "train",
            data_dir / "names.txt",
            "--line-mode",
            "--run-dir",
            run,
            "--max-steps",
            60,
            "--eval-every",
            60,
            "--lr",
            0.02,
            "--sample-length",
            0,
            *TINY,
        )
    assert code == 0, err
    assert read_meta(run / "best.safetensors")["vocab"]["specials"] == ["<bos>", "<eos>"]
    code, out, _ = cli("sample", run, "--num-samples", 5, "--length", 30, "--seed", 0)
    assert code == 0
    lines = out.split("\n")
    assert lines[-1] == "" and len(lines) == 6  # five items, one per line
    assert all(len(line) < 30 for line in lines)  # each stopped at <eos>, long before the length
    assert "<" not in out and set(out) <= set("".join(NAMES)) | {"\n"}
    assert sum(line in NAMES for line in lines[:-1]) >= 2  # it has learnt some names


def test_config_file_applies_and_flags_override_it(data_dir, tmp_path):
    config = tmp_path / "run.toml"
    config.write_text(
        "[model]\nhidden_size = 12\ncell = 'gru'\n\n[train]\nmax_steps = 3\nlr = 0.01\n"
        "eval_every = 3\n\n[data]\nseq_len = 10\n"
    )
    run = tmp_path / "r"
    with one_thread():
        code, _, err = cli(
            "train",
            data_dir / "corpus.txt",
            "--config",
            config,
            "--run-dir",
            run,
            "--lr",
            0.05,
            "--batch-size",
            3,
            "--sample-length",
            0,
            "--no-progress",
        )
    assert code == 0, err
    resolved = json.loads((run / "config.json").read_text())
    assert resolved["model"]["rnn"]["hidden_size"] == 12 and resolved["model"]["rnn"]["cell"] == "gru"  # from the file
    assert resolved["data"]["seq_len"] == 10 and resolved["train"]["max_steps"] == 3
    assert resolved["train"]["lr"] == 0.05 and resolved["data"]["batch_size"] == 3  # flags win
    assert read_meta(run / "latest.safetensors")["step"] == 3
    weights = load_checkpoint(run / "latest.safetensors").model_state
    assert weights["rnn.weight_hh_l0"].shape == (3 * 12, 12)  # a GRU with 12 units


def test_train_refuses_a_run_directory_with_a_checkpoint(copied_run, data_dir):
    before = files(copied_run)
    assert_error(
        cli("train", data_dir / "corpus.txt", "--run-dir", copied_run, "--max-steps", 2, *TINY),
        f"run directory: {copied_run} already holds a checkpoint",
        f"--resume {copied_run}",
    )
    assert files(copied_run) == before


def test_resume_refuses_data_and_model_options(copied_run, data_dir):
    before = files(copied_run)
    assert_error(
        cli("train", "--resume", copied_run, "--hidden-size", 32, "--no-progress"),
        "resume: expected only training options with --resume",
        "model.hidden_size",
    )
    assert_error(
        cli("train", data_dir / "corpus.txt", "--resume", copied_run, "--no-progress"),
        "resume: expected only training options",
    )
    assert files(copied_run) == before


def test_resume_continues(copied_run):
    code, _, err = cli("train", "--resume", copied_run, "--max-steps", 8, "--sample-length", 0, "--no-progress")
    assert code == 0, err
    assert f"resuming {copied_run} at step 6" in err
    assert read_meta(copied_run / "latest.safetensors")["step"] == 8


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
