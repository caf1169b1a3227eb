"""Word-level language models through the command line: train -> sample -> eval on small generated
text with explicit held-out files, the named presets (and the paper-to-rnnkit hyper-parameter
conversion they encode), and the bad inputs: exit code 2, one line, nothing written or lost."""

import json
import math
import random
import shutil
from pathlib import Path

import pytest
import torch

from rnnkit.cli.options import preset_names, read_preset
from rnnkit.train import EpochDecay

from ._harness import assert_error, cli

WORDS = "the cat sat on a mat and ran to see her dog who was not there at all today".split()
TINY = ["--hidden-size", "16", "--embedding-size", "16", "--num-layers", "2", "--batch-size", "4", "--seq-len", "10"]
TINY += ["--device", "cpu", "--no-progress"]


def lines(n: int, seed: int) -> str:
    rng = random.Random(seed)
    return "\n".join(" ".join(rng.choice(WORDS) for _ in range(rng.randint(4, 9))) for _ in range(n)) + "\n"


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("words")
    (d / "train.txt").write_text(lines(60, 0))  # ~390 words
    (d / "valid.txt").write_text(lines(8, 1))
    (d / "test.txt").write_text(lines(8, 2).replace("cat", "zebra"))  # a word the model never saw
    return d


@pytest.fixture(scope="module")
def run(data, tmp_path_factory) -> Path:
    """Tied weights, uniform init, SGD with the epoch schedule, validation every epoch: 2 epochs."""
    run = tmp_path_factory.mktemp("runs") / "words"
    flags = ["--tokens", "word", "--valid", data / "valid.txt", "--test", data / "test.txt", "--tie-weights"]
    flags += ["--init-scale", "0.1", "--optimizer", "sgd", "--momentum", "0", "--lr", "4", "--clip", "0.5"]
    flags += ["--lr-schedule", "epoch", "--lr-decay", "0.5", "--lr-decay-start", "1", "--max-epochs", "2"]
    flags += ["--eval-every", "0", "--log-every", "1", "--sample-length", "12"]
    code, out, err = cli("train", data / "train.txt", "--run-dir", run, *flags, *TINY)
    assert code == 0, err
    assert "words (" in err and "held-out tokens outside the vocabulary read as <unk>" in err
    assert "nats/word (perplexity " in err
    assert out.strip() and "<eos>" not in out  # the closing sample: words, <eos> printed as a newline
    return run


# ----- end to end -------------------------------------------------------------------------------
def test_train_stores_word_config_and_validates_every_epoch(run, data):
    config = json.loads((run / "config.json").read_text())
    assert config["data"]["tokens"] == "word"
    assert config["data"]["valid"] == str((data / "valid.txt").resolve())  # absolute: eval can re-read it
    assert config["model"]["tie_weights"] and config["model"]["init_scale"] == 0.1
    records = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    evals = [r for r in records if r["kind"] == "eval"]
    assert [r["epoch"] for r in evals] == [1.0, 2.0]  # --eval-every 0: once per epoch
    # (a record logged at an epoch's last step already shows the next epoch's rate: skip those)
    lrs = {math.ceil(r["epoch"]): r["lr"] for r in records if r["kind"] == "train" and r["epoch"] % 1}
    assert lrs[1] == 4.0 and lrs[2] == 2.0  # constant for 1 epoch, then halved


def test_sample_prints_words_and_newlines(run):
    code, out, err = cli("sample", run, "--prime", "the cat", "--length", "40", "--seed", "3")
    assert code == 0, err
    assert out.startswith("the cat")
    generated = out[len("the cat") : -1]  # the command ends its output with one newline of its own
    assert generated.count("\n") + len(generated.split()) == 40  # 40 tokens: words and <eos> newlines
    assert set(out.split()) <= set(WORDS) | {"<unk>"}
    assert "<eos>" not in out and "  " not in out  # <eos> is a newline; one space between words
    again = cli("sample", run, "--prime", "the cat", "--length", "40", "--seed", "3")[1]
    assert again == out
    code, out, _ = cli("sample", run, "--prime", "the zebra cat", "--length", "5", "--seed", "3")
    assert code == 0 and out.startswith("the zebra cat")  # an unknown word in the prime reads as <unk>


def test_sample_rejects_a_prime_of_unknown_words_before_printing(run):
    result = cli("sample", run, "--prime", "zebra giraffe", "--length", "5")
    assert_error(result, "prime: none of its words is in the vocabulary ('zebra', 'giraffe')")
    assert result[1] == ""
    assert_error(cli("sample", run, "--prime", "the zebra", "--unknown", "error"), "words not in the vocabulary")


def test_eval_reports_perplexity_on_the_stored_files_and_on_any_file(run, data):
    code, out, err = cli("eval", run, "--split", "val,test")
    assert code == 0, err
    val_line, test_line = out.strip().splitlines()
    assert val_line.startswith("the val split:") and "nats/word" in val_line and "perplexity" in val_line
    assert test_line.startswith("the test split:")
    stored = json.loads(cli("eval", run, "--split", "val,test", "--json")[1])
    given = json.loads(cli("eval", run, "--data", data / "valid.txt", "--data", data / "test.txt", "--json")[1])
    # the stored held-out files and the same files given by hand are read the same way (<eos>, <unk>)
    assert given[str(data / "valid.txt")] == pytest.approx(stored["val"])
    assert given[str(data / "test.txt")] == pytest.approx(stored["test"])
    assert stored["val"]["perplexity"] == pytest.approx(math.exp(stored["val"]["loss"]))
    single = json.loads(cli("eval", run, "--json")[1])  # one split: the flat report, as before
    assert single == pytest.approx(stored["test"])
    assert_error(cli("eval", run, "--data", data / "test.txt", "--unknown", "error"), "'zebra'")


def test_resume_a_word_run(run, tmp_path):
    copy = Path(shutil.copytree(run, tmp_path / "copy"))
    code, _, err = cli("train", "--resume", copy, "--max-epochs", "3", "--no-progress", "--sample-length", "0")
    assert code == 0, err
    assert "resuming" in err and "epoch 2" in err


# ----- presets ----------------------------------------------------------------------------------
PAPER = {  # Zaremba et al. (2014): layers, units, unroll, init, dropout, epochs, decay start, decay, clip
    "ptb-small": (2, 200, 20, 0.1, 0.0, 13, 4, 1 / 2, 5.0),
    "ptb-medium": (2, 650, 35, 0.05, 0.5, 39, 6, 1 / 1.2, 5.0),
    "ptb-large": (2, 1500, 35, 0.04, 0.65, 55, 14, 1 / 1.15, 10.0),
}


def test_the_presets_ship_with_the_package():
    assert preset_names() == ["ptb-awd", "ptb-large", "ptb-medium", "ptb-small"]


def test_the_regularised_preset_is_awd_lstm_style_and_builds():
    from rnnkit.models import LanguageModel, LanguageModelConfig
    from rnnkit.train import TrainConfig

    p = read_preset("ptb-awd")
    m, t = p["model"], p["train"]
    assert (m["tie_weights"], m["variational"], m["weight_drop"], m["embedding_dropout"]) == (True, True, 0.5, 0.1)
    assert (t["optimizer"], t["lr"], t["clip"], t["max_minutes"]) == ("ntasgd", 30.0, 0.25, 120.0)
    model = LanguageModel(LanguageModelConfig.from_dict({**m, "vocab_size": 100}))
    assert model.head.weight is model.embedding.weight and model.rnn.config.weight_drop == 0.5
    assert model.rnn.config.variational and model.rnn.config.dropout == 0.4
    TrainConfig(**t).validate()


@pytest.mark.parametrize("name", sorted(PAPER))
def test_presets_hold_the_paper_hyper_parameters_on_the_mean_loss_scale(name):
    layers, units, unroll, init, dropout, epochs, start, decay, clip = PAPER[name]
    p = read_preset(name)
    d, m, t = p["data"], p["model"], p["train"]
    assert (d["tokens"], d["vocab_size"], d["batch_size"], d["seq_len"]) == ("word", 10000, 20, unroll)
    assert (m["num_layers"], m["hidden_size"], m["embedding_size"], m["cell"]) == (layers, units, units, "lstm")
    assert (m["init_scale"], m["dropout"], m["tie_weights"]) == (init, dropout, False)
    assert (t["optimizer"], t["momentum"], t["lr_schedule"], t["clip_mode"]) == ("sgd", 0.0, "epoch", "norm")
    # the paper's loss is summed over the unroll: lr 1 there is lr T here, clip c there is c / T here
    assert t["lr"] == pytest.approx(1.0 * unroll)
    assert t["clip"] == pytest.approx(clip / unroll)
    assert t["lr"] * t["clip"] == pytest.approx(1.0 * clip)  # a clipped step has the paper's length
    assert (t["max_epochs"], t["lr_decay_start"], t["eval_every"]) == (epochs, start, 0)
    assert t["lr_decay"] == pytest.approx(decay)
    # the schedule on a toy optimiser: constant for `start` epochs, then x decay every epoch
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=t["lr"])
    schedule = EpochDecay(opt, t["lr_decay_start"], t["lr_decay"])
    seen = []
    for _ in range(epochs):
        seen.append(opt.param_groups[0]["lr"])
        opt.step()
        schedule.step()
    expected = [unroll * decay ** max(0, e + 1 - start) for e in range(epochs)]
    assert seen == pytest.approx(expected)
    assert seen[start - 1] == unroll and seen[start] == pytest.approx(unroll * decay)


def test_a_preset_is_layered_under_config_and_flags(data, tmp_path):
    config = tmp_path / "run.toml"
    config.write_text("[train]\nlr = 7.0\nclip = 0.5\n")
    flags = ["--valid", data / "valid.txt", "--hidden-size", "16", "--embedding-size", "16", "--clip", "0.3"]
    flags += ["--max-steps", "2", "--sample-length", "0", "--no-progress", "--run-dir", tmp_path / "run"]
    code, _, err = cli("train", data / "train.txt", "--preset", "ptb-small", "--config", config, *flags)
    assert code == 0, err
    stored = json.loads((tmp_path / "run" / "config.json").read_text())
    assert stored["train"]["lr"] == 7.0 and stored["train"]["clip"] == 0.3  # config over preset, flag over both
    assert stored["train"]["optimizer"] == "sgd" and stored["train"]["lr_decay_start"] == 4  # from the preset
    assert stored["data"]["tokens"] == "word" and stored["data"]["seq_len"] == 20
    assert stored["model"]["rnn"]["hidden_size"] == 16 and stored["model"]["init_scale"] == 0.1


# ----- bad input --------------------------------------------------------------------------------
def test_tie_weights_with_unequal_sizes_fails_before_anything_is_written(data, tmp_path):
    flags = ["--tie-weights", "--hidden-size", "32", "--embedding-size", "16", "--run-dir", tmp_path / "run"]
    result = cli("train", data / "train.txt", "--tokens", "word", *flags, "--no-progress")
    assert_error(result, "tie_weights needs embedding_size == hidden_size", "embedding_size=16", "hidden_size=32")
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize(
    "content, fragment",
    [("", "is empty; expected at least one character"), (" \n\n \n", "cannot build a word vocabulary")],
)
def test_a_vocabulary_from_a_file_without_words(tmp_path, content, fragment):
    (tmp_path / "empty.txt").write_text(content)
    result = cli("train", tmp_path / "empty.txt", "--tokens", "word", "--run-dir", tmp_path / "run", "--no-progress")
    assert_error(result, fragment)
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize(
    "argv, fragment",
    [
        (
            ["--preset", "ptb-huge"],
            "unknown preset 'ptb-huge'; expected one of ptb-awd, ptb-large, ptb-medium, ptb-small",
        ),
        (["--tokens", "word", "--vocab-size", "2"], "expected vocabulary size 0 (no limit) or >= 3"),
        (["--tokens", "word", "--min-freq", "1000"], "no word occurs at least 1000 times"),
        (["--tokens", "word", "--line-mode"], "expected line mode with character tokens only"),
        (["--tokens", "word", "--valid", "missing.txt"], "no such file or directory"),
        (["--tokens", "words"], "argument --tokens: invalid choice"),
    ],
)
def test_bad_word_options(data, tmp_path, argv, fragment):
    assert_error(cli("train", data / "train.txt", *argv, "--run-dir", tmp_path / "run", "--no-progress"), fragment)
    assert not (tmp_path / "run").exists()


def test_resume_refuses_a_preset(run, tmp_path):
    assert_error(cli("train", "--resume", run, "--preset", "ptb-small"), "--preset")
