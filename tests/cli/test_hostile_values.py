"""Hostile values at every boundary of the command line (issue 12, items 8 and 12): NaN, inf, negative,
zero, absurd sizes, wrongly typed TOML values, unusable devices. Each is refused before anything is
built or written: exit code 2, one "rnnkit: error: ..." line saying what was expected, no traceback."""

import random
from pathlib import Path

import pytest

from ._harness import assert_error, cli
from ._runs import TINY
from .test_classify_tag_cli import keyword_rows, tag_sentences, write_conllu, write_tsv

CLASSIFY = ["--hidden-size", "8", "--embedding-size", "8", "--batch-size", "16", "--device", "cpu", "--no-progress"]
HUGE = "1000000000000"


@pytest.fixture(scope="module")
def runs(data_dir, run, tmp_path_factory) -> dict[str, Path]:
    """A language model (the shared ``run``), a classifier and a tagger, each trained for two steps."""
    root = tmp_path_factory.mktemp("hostile")
    table = write_tsv(root / "reviews.tsv", keyword_rows(60, seed=0))
    tagged = write_conllu(root / "tags.conllu", tag_sentences(30, seed=0))
    out = {"lm": run, "classify": root / "clf", "tag": root / "tag", "table": table, "tagged": tagged}
    for verb, data in (("classify", table), ("tag", tagged)):
        code, _, err = cli("train", verb, data, *CLASSIFY, "--max-steps", 2, "--run-dir", out[verb])
        assert code == 0, err
    return out


def train_lm(data_dir, tmp_path, *extra):
    return cli("train", data_dir / "corpus.txt", "--run-dir", tmp_path / "r", "--max-steps", 2, *TINY, *extra)


def assert_refused(result, tmp_path, *fragments) -> str:
    line = assert_error(result, *fragments)
    assert not (tmp_path / "r" / "latest.safetensors").exists()
    return line


# ----- training values --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "flags, fragment",
    [
        (["--max-epochs", "inf"], "train: expected max_epochs >= 0 and finite"),
        (["--max-epochs", "nan"], "train: expected max_epochs >= 0 and finite"),
        (["--max-minutes", "inf"], "train: expected max_minutes >= 0 and finite"),
        (["--max-minutes", "nan"], "train: expected max_minutes >= 0 and finite"),
        (["--lr", "inf"], "train: expected lr > 0 and finite (a float32: at most 3.4e38), got inf"),
        (["--lr", "nan"], "train: expected lr > 0 and finite"),
        (["--lr", "1e39"], "train: expected lr > 0 and finite"),
        (["--optimizer", "sgd", "--lr", "1e39"], "train: expected lr > 0 and finite"),
        (["--momentum", "nan"], "train: expected momentum >= 0 and finite"),
        (["--momentum", "inf"], "train: expected momentum >= 0 and finite"),
        (["--weight-decay", "inf"], "train: expected weight_decay >= 0 and finite"),
        (["--clip", "inf"], "train: expected clip > 0 and finite"),
        (["--clip", "nan"], "train: expected clip > 0 and finite"),
        (["--lr-decay", "nan"], "train: expected lr_decay in (0, 1], got nan"),
        (["--seed", "-1"], "train: expected seed to be an integer in [0, 2**32), got -1"),
        (["--seed", "100000000000000000000"], "train: expected seed to be an integer in [0, 2**32)"),
        (["--forget-bias", "nan"], "forget_bias: expected a finite number (float32), got nan"),
        (["--forget-bias", "inf"], "forget_bias: expected a finite number (float32), got inf"),
        (["--forget-bias", "1e39"], "forget_bias: expected a finite number (float32)"),
        (["--dropout", "nan"], "expected dropout in [0, 1), got nan"),
        (["--dropout", "inf"], "expected dropout in [0, 1), got inf"),
        (["--encoding", "rot13"], "data: unknown encoding 'rot13'; expected a Python codec name"),
        (["--encoding", "base64"], "data: unknown encoding 'base64'"),
        (["--split", "nan,0.1,0.1"], "split"),
        (["--device", "foo"], "device: expected 'auto', 'cpu' or 'cuda[:N]', got 'foo'"),
        (["--device", "mps"], "device: expected 'auto', 'cpu' or 'cuda[:N]', got 'mps'"),
        (["--device", "meta"], "device: expected 'auto', 'cpu' or 'cuda[:N]', got 'meta'"),
        (["--device", "cpu:3"], "device: expected 'cpu' (one CPU device), got 'cpu:3'"),
    ],
)
def test_training_values_are_refused(data_dir, tmp_path, flags, fragment):
    assert_refused(train_lm(data_dir, tmp_path, *flags), tmp_path, fragment)


@pytest.mark.parametrize(
    "flags",
    [
        ["--hidden-size", HUGE],
        ["--embedding-size", HUGE],
        ["--proj-size", "4", "--hidden-size", "100000000"],
        ["--num-layers", "1000000000"],
    ],
)
def test_absurd_model_sizes_are_refused_before_allocating(data_dir, tmp_path, flags):
    line = assert_refused(train_lm(data_dir, tmp_path, *flags), tmp_path, "expected an estimated size within the")
    assert "GiB of memory, got" in line and "GiB for" in line


@pytest.mark.parametrize("verb", ["classify", "tag"])
@pytest.mark.parametrize(
    "flags, fragment",
    [
        (["--hidden-size", HUGE], "expected an estimated size within the"),
        (["--embedding-size", HUGE], "expected an estimated size within the"),
        (["--lr", "inf"], "train: expected lr > 0 and finite"),
        (["--max-epochs", "nan"], "train: expected max_epochs >= 0 and finite"),
        (["--forget-bias", "nan"], "forget_bias: expected a finite number"),
        (["--encoding", "rot13"], "data: unknown encoding 'rot13'"),
        (["--device", "foo"], "device: expected 'auto', 'cpu' or 'cuda[:N]', got 'foo'"),
    ],
)
def test_classify_and_tag_training_values_are_refused(runs, tmp_path, verb, flags, fragment):
    data = runs["table"] if verb == "classify" else runs["tagged"]
    result = cli("train", verb, data, *CLASSIFY, "--max-steps", 2, "--run-dir", tmp_path / "r", *flags)
    assert_refused(result, tmp_path, fragment)


@pytest.mark.parametrize("target", ["nan", "inf", "-inf", "1e39"])
def test_a_non_finite_regression_target_is_refused(tmp_path, target):
    rng = random.Random(0)
    rows = [(text, f"{rng.random():.3f}") for text, _ in keyword_rows(40, seed=1)] + [("a bad row", target)]
    table = write_tsv(tmp_path / "scores.tsv", rows)
    result = cli("train", "classify", table, "--task", "regress", *CLASSIFY, "--run-dir", tmp_path / "r")
    line = assert_refused(result, tmp_path, "expected a finite regression target (a float32), got")
    assert "scores.tsv:" in line and repr(target) in line


# ----- TOML tables and values -------------------------------------------------------------------------
@pytest.mark.parametrize(
    "toml, fragments",
    [
        ("[train]\nmax_epochs = inf\n", ["train: expected max_epochs >= 0 and finite", "got inf"]),
        ("[train]\nlr = nan\n", ["train: expected lr > 0 and finite", "got nan"]),
        ("model = 3\n", ["config: [model] in", "run.toml: expected a table, got 3"]),
        ("train = 'x'\n", ["config: [train] in", "expected a table, got 'x'"]),
        ("[model]\nrnn = 3\n", ["config: [model.rnn] in", "expected a table, got 3"]),
        ("[model]\nrnn = 3\nhidden_size = 8\n", ["config: unknown key(s) ['hidden_size'] in [model] in"]),
        ("[model.rnn]\nforget_bias = inf\n", ["forget_bias: expected a finite number"]),
        ("[model]\ndropout = nan\n", ["expected dropout in [0, 1), got nan"]),
        ("[model.rnn]\nhidden_size = 1000000000000\n", ["expected an estimated size within the"]),
        ("[train]\ndevice = 3\n", ["config: [train] key 'device': expected a str, got 3 in", "run.toml"]),
    ],
)
def test_toml_values_are_refused(data_dir, tmp_path, toml, fragments):
    (tmp_path / "run.toml").write_text(toml)
    assert_refused(train_lm(data_dir, tmp_path, "--config", tmp_path / "run.toml"), tmp_path, *fragments)


def test_a_bad_toml_value_is_named_with_its_file_not_blamed_on_a_later_flag(data_dir, tmp_path):
    """hidden_size = true in the file, --hidden-size 32 on the command line: the message is about the
    file's true (where it came from), never "expected a bool, got 32"."""
    (tmp_path / "run.toml").write_text("[model.rnn]\nhidden_size = true\n")
    result = train_lm(data_dir, tmp_path, "--config", tmp_path / "run.toml", "--hidden-size", 32)
    line = assert_refused(result, tmp_path, "config: [model.rnn] in", "run.toml:", "hidden_size", "got True")
    assert "bool" not in line and "got 32" not in line
    (tmp_path / "flat.toml").write_text("[model]\nhidden_size = 'big'\n")
    result = train_lm(data_dir, tmp_path, "--config", tmp_path / "flat.toml", "--hidden-size", 32)
    assert_refused(result, tmp_path, "config: [model.rnn] key 'hidden_size': expected a int, got 'big' in", "flat.toml")


# ----- the inference commands ---------------------------------------------------------------------------
DEVICES = ["foo", "mps", "meta", "xla", "-1", "cpu:1", "cuda:x", "auto"]


def command(runs, which: str) -> list:
    return {
        "sample": ["sample", runs["lm"], "--length", 5],
        "predict": ["predict", runs["classify"], "a good film"],
        "eval-lm": ["eval", runs["lm"]],
        "eval-classify": ["eval", runs["classify"]],
        "eval-tag": ["eval", runs["tag"]],
        "tag": ["tag", runs["tag"], runs["tagged"]],
        "visualize": ["visualize", runs["lm"], "--text", "Alice", "--out", Path(runs["lm"]).parent / "never.html"],
    }[which]


@pytest.mark.parametrize("which", ["sample", "predict", "eval-lm", "eval-classify", "eval-tag", "tag", "visualize"])
@pytest.mark.parametrize("device", DEVICES)
def test_unusable_devices_are_refused(runs, which, device):
    assert_error(cli(*command(runs, which), "--device", device), "device: expected", repr(device))


@pytest.mark.parametrize(
    "flags, fragment",
    [
        (["--temperature", "nan"], "temperature: expected a number > 0"),
        (["--temperature", "inf"], "temperature: expected a number > 0"),
        (["--temperature", "1e-300"], "temperature: expected a number >= 1e-30"),
        (["--top-p", "nan"], "top-p: expected a number in (0, 1], got nan"),
        (["--top-p", "inf"], "top-p: expected a number in (0, 1], got inf"),
        (["--top-k", "-1"], "top-k: expected an integer >= 1"),
        (["--length", "-1"], "length: expected an integer >= 0"),
        (["--num-samples", "0"], "num-samples: expected an integer >= 1"),
    ],
)
def test_sampling_values_are_refused(runs, flags, fragment):
    assert_error(cli("sample", runs["lm"], "--length", 5, *flags), fragment)


@pytest.mark.parametrize(
    "flags, fragment",
    [
        (["--lags", HUGE], "bench: data and activations: expected an estimated size within the"),
        (["--lags", "100000000", "--batch-size", "100000"], "expected an estimated size within the"),
        (["--hidden-size", HUGE], "expected an estimated size within the"),
        (["--lr", "nan"], "bench: expected lr > 0 and finite, got nan"),
        (["--clip", "inf"], "bench: expected clip > 0 and finite, got inf"),
        (["--minutes", "nan"], "minutes: expected a budget > 0"),
        (["--minutes", "inf"], "minutes: expected a budget > 0"),
    ],
)
def test_bench_memory_sizes_are_refused_before_allocating(tmp_path, flags, fragment):
    result = cli("bench", "memory", "--cells", "lstm", "--minutes", "0.01", "--out", tmp_path / "b", *flags)
    assert_error(result, fragment)
    assert not (tmp_path / "b").exists()
