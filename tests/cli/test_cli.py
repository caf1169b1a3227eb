"""The command line end to end (train -> sample -> eval in seconds), configuration layering and
resume. (Every bad input: test_cli_errors.py.)"""

import json
import math
import os

import pytest

from rnnkit.checkpoint import load_checkpoint, read_meta

from ._harness import assert_error, cli
from ._runs import NAMES, TINY, corpus_text, files, one_thread


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
