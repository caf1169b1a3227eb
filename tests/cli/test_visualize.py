"""``rnnkit visualize``: one self-contained HTML page for a checkpoint and a text; --find prints the
units that track each text property; bad input gets one line and exit code 2."""

import json
import re

import pytest

from rnnkit.cli.main import main
from rnnkit.diagnostics.find_units import PROPERTY_NAMES

from ._tiny_run import tiny_run


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    return tiny_run(tmp_path_factory.mktemp("visualize"), cell="gru")


def page_data(path):
    page = path.read_text(encoding="utf-8")
    return page, json.loads(re.search(r'<script type="application/json" id="data">(.*?)</script>', page, re.S)[1])


def test_writes_the_page_for_the_requested_unit(run, capsys):
    run_dir, text = run
    assert main(["visualize", str(run_dir), "--text", str(text), "--layer", "2", "--unit", "7", "--signal", "z"]) == 0
    page, data = page_data(run_dir / "visualize.html")
    assert page.startswith("<!DOCTYPE html>") and "<script src" not in page
    assert data["selected"] == {**data["selected"], "signal": "z", "layer": 1, "unit": 7}
    assert len(data["selected"]["values"]) == len(data["pieces"]) == len(text.read_text(encoding="utf-8"))
    assert all(0 < v < 1 for v in data["selected"]["values"])  # a gate
    assert "wrote " in capsys.readouterr().err


def test_find_lists_units_per_property(run, tmp_path, capsys):
    run_dir, text = run
    out = tmp_path / "page.html"
    assert main(["visualize", str(run_dir), "--text", str(text), "--find", "--top", "2", "--out", str(out)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(":")[0] for line in lines] == list(PROPERTY_NAMES.values())
    assert all(len(re.findall(r"r=[+-]\d\.\d\d", line)) == 2 for line in lines)
    _, data = page_data(out)
    assert set(data["found"]) == set(PROPERTY_NAMES) and len(data["pieces"]) > 100


def test_max_chars(run, tmp_path):
    run_dir, text = run
    out = tmp_path / "short.html"
    assert main(["visualize", str(run_dir), "--text", str(text), "--max-chars", "30", "--out", str(out)]) == 0
    assert len(page_data(out)[1]["pieces"]) == 30


@pytest.mark.parametrize(
    "args, message",
    [
        (["--signal", "c"], "signal: expected one of ['h', 'n', 'r', 'z'] for this gru, got 'c'"),
        (["--layer", "3"], "layer: expected 1..2, got 3"),
        (["--unit", "8"], "unit: expected 0..7, got 8"),
        (["--max-chars", "0"], "visualize: expected --max-chars and --top >= 1, got 0 and 5"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(run, tmp_path, args, message, capsys):
    run_dir, text = run
    out = tmp_path / "never.html"
    assert main(["visualize", str(run_dir), "--text", str(text), "--out", str(out), *args]) == 2
    err = capsys.readouterr().err
    assert err == f"rnnkit: error: {message}\n"
    assert not out.exists()


def test_missing_text(run, capsys):
    run_dir, _ = run
    assert main(["visualize", str(run_dir), "--text", "no/such/file.txt"]) == 2
    assert capsys.readouterr().err.startswith("rnnkit: error: ")
