"""``rnnkit train [TASK] --help``: every default shown, the task's own, generated from its configs;
readable placeholders; the demo's settings for ``rnnkit train``."""

import argparse
import re

import pytest

from rnnkit.cli import run as run_module
from rnnkit.cli import train as train_module
from rnnkit.cli.defaults import as_flags, run_defaults, show_defaults, shown, with_default
from rnnkit.cli.main import command_parser
from rnnkit.cli.options import add
from rnnkit.tasks.registry import task_named

from ._harness import cli

FORMS = {"train": "lm", "train-classify": "classify", "train-tag": "tag"}


def help_of(parser) -> dict[str, str]:
    """{--flag: its help text as printed (whitespace folded)} of one parser."""
    return {a.option_strings[-1]: " ".join(a.help.split()) for a in parser._actions if a.option_strings}


def config_flags(parser):
    return [a for a in parser._actions if a.option_strings and "." in a.dest]


@pytest.mark.parametrize("name", list(FORMS))
def test_every_config_flag_shows_its_tasks_default(name):
    parser = command_parser(name)
    cfg = run_defaults(task_named(FORMS[name]))
    for action in config_flags(parser):
        section, *path = action.dest.split(".")
        value = cfg[section]
        for field in path:
            value = getattr(value, field)
        text = shown(value)
        if action.nargs == 0 or text is None:  # a switch, or no value ("" = none given)
            continue
        assert f"default {text})" in action.help, (action.option_strings, action.help)


@pytest.mark.parametrize("name", list(FORMS))
def test_placeholders_are_readable(name):
    code, out, err = cli(*name.split("-"), "--help")
    assert code == 0, err
    assert not re.search(r"\b(DATA|MODEL|TRAIN)\.[A-Z_.]+", out), out
    for flag, metavar in [("--hidden-size", "H"), ("--num-layers", "L"), ("--lr", "LR"), ("--batch-size", "B")]:
        assert f"{flag} {metavar}" in out
    assert "--max-steps N" in out and "--dropout X" in out and "--monitor METRIC" in out


def test_classify_help_shows_classify_defaults_and_the_right_best():
    helps = help_of(command_parser("train-classify"))
    assert helps["--hidden-size"].endswith("(default 128)")
    assert helps["--num-layers"].endswith("(default 1)")
    assert helps["--batch-size"].endswith("(default 32)")
    assert helps["--lr"].endswith("default 0.002)")
    assert helps["--monitor"].endswith("(default val_acc)")
    assert helps["--max-epochs"].endswith("default 10)")
    assert helps["--eval-every"].endswith("default 0)")
    description = " ".join(command_parser("train-classify").description.split())
    assert "highest validation accuracy" in description and "(lowest validation loss)" not in description


def test_tag_and_lm_show_their_own():
    tag, lm = help_of(command_parser("train-tag")), help_of(command_parser("train"))
    assert tag["--embedding-size"].endswith("(default 100)") and tag["--dropout"].endswith("(default 0.33)")
    assert tag["--num-layers"].endswith("(default 2)") and lm["--monitor"].endswith("(default val_loss)")
    assert lm["--max-epochs"].endswith("default 20)") and lm["--sample-length"].endswith("default 300)")


def test_lm_epilog_lists_the_demo_settings_from_the_spec():
    parser = command_parser("train")
    epilog = " ".join(parser.epilog.split())
    assert "Without data files" in epilog
    demo = task_named("lm").demo()
    assert demo["model"]["rnn"]["hidden_size"] and f"--hidden-size {demo['model']['rnn']['hidden_size']}" in epilog
    for flag in as_flags(parser, demo):
        assert flag in epilog


def test_the_shown_defaults_are_what_a_run_gets(data_dir, tmp_path, monkeypatch):
    """run_defaults follows cli.run.run_verb's layers: a run on a data file with no flags gets exactly them."""
    got = {}
    monkeypatch.setattr(run_module.driver, "train", lambda spec, cfg, *rest: got.update(cfg))
    (tmp_path / "t.tsv").write_text("text\tlabel\na b\tx\nc d\ty\n")
    for argv, task in [
        (["train", data_dir / "corpus.txt"], "lm"),
        (["train", "classify", tmp_path / "t.tsv"], "classify"),
        (["train", "tag", tmp_path / "t.tsv"], "tag"),
    ]:
        got.clear()
        code, _, err = cli(*argv, "--run-dir", tmp_path / task)
        assert code == 0, err
        assert got == run_defaults(task_named(task))


def test_a_flag_added_later_shows_its_default_too():
    parser = argparse.ArgumentParser()
    add(parser, "--new-budget", dest="train.patience", type=int, help="a flag another change adds")
    add(parser, "--new-remark", dest="train.lr_decay", type=float, help="halve it (0: never)")
    parser.add_argument("--plain", type=int, default=7, help="not a config flag")
    show_defaults(parser, run_defaults(task_named("classify")))
    helps = help_of(parser)
    assert helps["--new-budget"] == "a flag another change adds (default 1)"
    assert helps["--new-remark"] == "halve it (0: never; default 0.5)"
    assert helps["--plain"] == "not a config flag (default 7)"
    assert [a.metavar for a in parser._actions if a.option_strings][1:] == ["N", "X", "N"]


def test_with_default_keeps_formulas_outside_the_remark():
    assert with_default("p = a/(a+n)", "0") == "p = a/(a+n) (default 0)"
    assert with_default("steps (0: none)", "5") == "steps (0: none; default 5)"


# ----- the close match ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    "argv, wrong, meant",
    [
        (["train", "--rnn-size", "128"], "--rnn-size", "--hidden-size"),
        (["train", "--rnn_size=128"], "--rnn_size", "--hidden-size"),
        (["train", "--num_layers", "2"], "--num_layers", "--num-layers"),
        (["train", "--seq_length", "50"], "--seq_length", "--seq-len"),
        (["train", "--batch_size", "50"], "--batch_size", "--batch-size"),
        (["train", "--learning_rate", "0.1"], "--learning_rate", "--lr"),
        (["train", "--max_epochs", "3"], "--max_epochs", "--max-epochs"),
        (["train", "--dropuot", "0.5"], "--dropuot", "--dropout"),
        (["train", "classify", "--hidden_dim", "64"], "--hidden_dim", "--hidden-size"),
        (["train", "tag", "--n_layers", "3"], "--n_layers", "--num-layers"),
        (["train", "--epochs", "3"], "--epochs", "--max-epochs"),
        (["sample", "run", "--temprature", "0.5"], "--temprature", "--temperature"),
    ],
)
def test_unknown_option_suggests_the_close_match(argv, wrong, meant):
    code, out, err = cli(*argv)
    assert code == 2 and out == ""
    assert err == f"rnnkit: error: unknown option {wrong}; did you mean {meant}?\n"


def test_an_unknown_option_fails_before_any_data_is_read(data_dir, tmp_path, monkeypatch):
    read = []
    monkeypatch.setattr(train_module, "run_verb", lambda *a, **k: read.append(a))
    for extra in (["--rnn-size", "128"], ["--foo"]):
        code, _, err = cli("train", data_dir / "corpus.txt", *extra, "--run-dir", tmp_path / "r")
        assert code == 2 and err.count("\n") == 1 and extra[0] in err
    assert read == [] and not (tmp_path / "r").exists()
