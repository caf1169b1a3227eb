"""``rnnkit diagnose``: PNG, CSV and one summary line for a checkpoint, a memory-task model, or a
comparison of cells; bad input gets one line and exit code 2."""

import csv

import pytest

from rnnkit.cli.main import main

from ._tiny_run import tiny_run


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    return tiny_run(tmp_path_factory.mktemp("diagnose"))


def test_diagnose_a_run_on_its_stored_text(run, capsys):
    run_dir, _ = run
    assert main(["diagnose", str(run_dir), "--steps", "10", "--batch-size", "3"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 1 and out[0].startswith("lstm: gradient ") and "over 9 steps" in out[0]
    assert (run_dir / "gradient_flow.png").read_bytes()[:4] == b"\x89PNG"
    rows = list(csv.DictReader((run_dir / "gradient_flow.csv").open()))
    assert len(rows) == 2 * 10 and {r["layer"] for r in rows} == {"layer 1", "layer 2"}


def test_diagnose_other_text_with_the_fused_backward(run, tmp_path, capsys):
    run_dir, text = run
    code = main(
        ["diagnose", str(run_dir / "best.safetensors"), "--data", str(text), "--steps", "12"]
        + ["--method", "fused", "--jacobian-examples", "0", "--out", str(tmp_path)]
    )
    assert code == 0
    assert "over 11 steps" in capsys.readouterr().out
    rows = list(csv.DictReader((tmp_path / "gradient_flow.csv").open()))
    assert rows[0]["jacobian_h"] == "" and float(rows[0]["grad_h"]) > 0


def test_compare_cells_in_one_plot(run, tmp_path, capsys):
    _, text = run
    args = ["diagnose", "--compare", "rnn,lstm", "--data", str(text), "--hidden-size", "4", "--train-steps", "2"]
    assert main(args + ["--steps", "8", "--batch-size", "2", "--out", str(tmp_path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(":")[0] for line in lines] == [
        "rnn, untrained",
        "rnn, 2 steps",
        "lstm, untrained",
        "lstm, 2 steps",
    ]
    assert (tmp_path / "gradient_flow.png").exists() and (tmp_path / "lstm" / "metrics.jsonl").exists()
    models = {r["model"] for r in csv.DictReader((tmp_path / "gradient_flow.csv").open())}
    assert models == {"rnn, untrained", "rnn, 2 steps", "lstm, untrained", "lstm, 2 steps"}


def test_diagnose_a_memory_task_model(tmp_path, capsys):
    bench = ["bench", "memory", "--cells", "gru", "--lags", "6", "--minutes", "0.002", "--hidden-size", "4"]
    assert main(bench + ["--save", "--out", str(tmp_path)]) == 0
    capsys.readouterr()
    assert main(["diagnose", str(tmp_path / "adding-gru-T6.safetensors"), "--batch-size", "4"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("gru: gradient ") and "over 5 steps" in out  # the adding problem at T=6
    assert (tmp_path / "gradient_flow.csv").exists()


@pytest.mark.parametrize(
    "args, message",
    [
        ([], "diagnose: expected a checkpoint (or --compare CELLS), got neither"),
        (["x", "--compare", "rnn"], "diagnose: expected a checkpoint or --compare, got both ('x')"),
        (["--compare", "rnn,transformer"], "compare: expected comma-separated cells from rnn, lstm, gru"),
        (["--compare", "rnn", "--steps", "1"], "diagnose: expected --steps >= 2"),
        (["no/such/run"], "checkpoint"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(args, message, capsys):
    assert main(["diagnose", *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith("rnnkit: error: ") and message in err and err.count("\n") == 1


def test_too_little_data(run, tmp_path, capsys):
    run_dir, _ = run
    short = tmp_path / "short.txt"
    short.write_text("Alice", encoding="utf-8")
    assert main(["diagnose", str(run_dir), "--data", str(short), "--out", str(tmp_path)]) == 2
    assert "data: expected more than --steps=50 symbols in" in capsys.readouterr().err
