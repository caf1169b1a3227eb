"""Start-up: ``rnnkit --version`` / ``--help`` import no command module (and so no torch), ``python -m
rnnkit`` is the same command, the static command table matches the modules, and main's exits.
(How fast it starts is measured by benchmarks/bench_startup.py, never asserted here.)"""

import importlib
import os
import subprocess
import sys

import pytest

import rnnkit
from rnnkit.cli.main import COMMAND_TABLE, HIDDEN, ArgumentParser

from ._harness import assert_error, cli

ENV = {**os.environ, "OMP_NUM_THREADS": "1"}


def python(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, env=ENV, timeout=120)


def modules_after(argv: list[str]) -> list[str]:
    """torch and the rnnkit.cli / rnnkit.tasks modules a fresh interpreter has imported after main(argv)."""
    probe = (
        "import sys\n"
        "from rnnkit.cli.main import main\n"
        "try:\n"
        f"    main({argv!r})\n"
        "except SystemExit:\n"
        "    pass\n"
        "loaded = sorted(m for m in sys.modules if m == 'torch' or m.startswith(('rnnkit.cli.', 'rnnkit.tasks')))\n"
        "print('LOADED', ','.join(loaded), file=sys.stderr)\n"
    )
    result = python("-c", probe)
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("LOADED "), result.stderr
    return last.removeprefix("LOADED ").split(",")


@pytest.mark.parametrize("argv", [["--version"], ["--help"], [], ["frobnicate"]])
def test_top_level_imports_no_torch_and_no_command(argv):
    assert modules_after(argv) == ["rnnkit.cli.main", "rnnkit.cli.suggest"]


@pytest.mark.parametrize("command", ["runs", "info"])
def test_run_management_help_imports_no_torch(command):
    loaded = modules_after([command, "--help"])
    assert f"rnnkit.cli.{command}" in loaded and "torch" not in loaded


def test_python_m_rnnkit_is_the_command():
    result = python("-m", "rnnkit", "--version")
    assert result.returncode == 0 and result.stdout == f"rnnkit {rnnkit.__version__}\n"
    result = python("-m", "rnnkit", "train", "--rnn-size", "8")
    assert result.returncode == 2
    assert result.stderr == "rnnkit: error: unknown option --rnn-size; did you mean --hidden-size?\n"
    result = python("-m", "rnnkit")
    assert result.returncode == 2 and result.stderr.startswith("usage: rnnkit") and result.stdout == ""


def test_help_lists_every_command_and_no_hidden_form():
    code, out, err = cli("--help")
    assert code == 0 and err == ""
    for name in COMMAND_TABLE:
        assert f"    {name}" in out
    assert "train-classify" not in out and "train-tag" not in out


def test_unknown_command_is_one_line():
    line = assert_error(cli("frobnicate"), "invalid choice: 'frobnicate'")
    assert "'runs'" in line and "'info'" in line


@pytest.mark.parametrize("name", [*COMMAND_TABLE, *HIDDEN])
def test_the_table_matches_each_module(name):
    """The one-line help the top level shows (without importing) is the module's own."""
    module = importlib.import_module(HIDDEN.get(name) or COMMAND_TABLE[name][0])
    sub = ArgumentParser(prog="rnnkit").add_subparsers(parser_class=ArgumentParser)
    module.add_parser(sub)
    assert list(sub.choices) == [name]
    helps = [a.help for a in sub._choices_actions]
    assert helps == ([COMMAND_TABLE[name][1]] if name in COMMAND_TABLE else [])


@pytest.mark.parametrize("name, form", [("train", ["train"]), ("train-classify", ["train", "classify"])])
def test_sub_command_help(name, form):
    code, out, _ = cli(*form, "--help")
    assert code == 0 and out.startswith(f"usage: rnnkit {' '.join(form)} ")


@pytest.mark.parametrize(
    "error, line",
    [
        (KeyboardInterrupt(), "rnnkit: interrupted"),
        (
            KeyboardInterrupt(
                "interrupted at step 4; saved r/latest.safetensors; continue with: rnnkit train --resume r"
            ),
            "rnnkit: interrupted at step 4; saved r/latest.safetensors; continue with: rnnkit train --resume r",
        ),
    ],
)
def test_interrupt_prints_the_message_and_exits_130(monkeypatch, error, line):
    def interrupted(args, *rest, **kwargs):
        raise error

    train_module = importlib.import_module("rnnkit.cli.train")
    monkeypatch.setattr(train_module, "run_verb", interrupted)
    code, out, err = cli("train", "--max-steps", 1)
    assert (code, out, err) == (130, "", line + "\n")
