"""``rnnkit bench memory``: a table, the longest lag per cell, a PNG and a CSV; bad input exits 2."""

import csv

import pytest

from rnnkit.cells import CELL_TYPES
from rnnkit.cli.main import main


def test_bench_memory_smoke(tmp_path, capsys):
    args = ["bench", "memory", "--cells", "rnn,lstm", "--lags", "3,5", "--minutes", "0.002", "--hidden-size", "4"]
    assert main(args + ["--task", "recall", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split()[:4] == ["cell", "lag", "test", "accuracy"]
    assert [line.split()[:2] for line in out[2:6]] == [["rnn", "3"], ["rnn", "5"], ["lstm", "3"], ["lstm", "5"]]
    assert out[6].startswith("rnn: longest lag solved ") and out[7].startswith("lstm: longest lag solved ")
    assert (tmp_path / "memory_recall.png").read_bytes()[:4] == b"\x89PNG"
    rows = list(csv.DictReader((tmp_path / "memory_recall.csv").open()))
    assert [(r["cell"], r["lag"]) for r in rows] == [("rnn", "3"), ("rnn", "5"), ("lstm", "3"), ("lstm", "5")]
    assert (tmp_path / "config.json").exists() and not list(tmp_path.glob("*.safetensors"))


@pytest.mark.parametrize(
    "args, message",
    [
        (
            ["--cells", "lstm,tcn"],
            f"cells: expected comma-separated cells from {', '.join(CELL_TYPES)}, got 'lstm,tcn'",
        ),
        (["--lags", "5,x"], "lags: expected comma-separated integers, got '5,x'"),
        (["--lags", "1"], "lags: expected lags >= 2 for the adding problem, got '1'"),
        (["--minutes", "0"], "minutes: expected a budget > 0, got 0.0"),
        (["--hidden-size", "0"], "bench: expected hidden_size to be a positive integer, got 0"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(args, message, capsys, tmp_path):
    assert main(["bench", "memory", "--out", str(tmp_path / "x"), *args]) == 2
    assert capsys.readouterr().err == f"rnnkit: error: {message}\n"
    assert not (tmp_path / "x").exists()


def test_unknown_benchmark(capsys):
    with pytest.raises(SystemExit) as exit_:  # argparse's own error: one line, exit 2
        main(["bench", "speed"])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("rnnkit: error: ") and "invalid choice: 'speed'" in err and err.count("\n") == 1
