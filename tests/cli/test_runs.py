"""``rnnkit runs [DIR]``: a table of the runs under DIR from their checkpoint headers; broken runs listed
as unreadable (never a traceback), weights never loaded; --json."""

import json
import shutil
from pathlib import Path

import pytest

from rnnkit.cli import runs as runs_module

from ._harness import assert_error, cli
from ._runs import one_thread
from ._tiny_run import tiny_run


@pytest.fixture(scope="module")
def runs_dir(tmp_path_factory) -> Path:
    """runs/: an LSTM and a GRU run, a truncated checkpoint, a run that never saved one, a plain directory."""
    root = tmp_path_factory.mktemp("work")
    with one_thread():
        lstm, _ = tiny_run(root, "lstm")
        gru, _ = tiny_run(root, "gru")
    runs = root / "runs"
    runs.mkdir()
    shutil.move(lstm, runs / "a-lstm")
    shutil.move(gru, runs / "b-gru")
    (runs / "broken").mkdir()
    (runs / "broken" / "latest.safetensors").write_bytes((runs / "a-lstm" / "latest.safetensors").read_bytes()[:500])
    (runs / "started").mkdir()
    (runs / "started" / "metrics.jsonl").write_text("")
    (runs / "notes").mkdir()
    (runs / "notes" / "todo.txt").write_text("not a run")
    return runs


def test_table_lists_each_run_from_its_header(runs_dir, monkeypatch):
    monkeypatch.setattr("rnnkit.checkpoint.read_container", _never)  # what reads the weights
    code, out, err = cli("runs", runs_dir)
    assert code == 0 and "Traceback" not in err
    lines = out.splitlines()
    assert lines[0].split() == ["run", "task", "model", "steps", "best", "size", "date"]
    rows = {line.split()[0]: line for line in lines[1:]}
    assert set(rows) == {"a-lstm", "b-gru", "broken", "started"}  # not "notes"
    assert "lm" in rows["a-lstm"] and "2x8 lstm" in rows["a-lstm"] and "val_loss 3." in rows["a-lstm"]
    assert "2x8 gru" in rows["b-gru"] and " 2 " in rows["b-gru"] and "KB" in rows["b-gru"]
    assert "unreadable" in rows["broken"] and "no checkpoint" in rows["started"]


def test_json_and_sorted_by_date(runs_dir):
    code, out, _ = cli("runs", runs_dir, "--json")
    assert code == 0
    rows = json.loads(out)
    assert [r["date"] for r in rows] == sorted(r["date"] for r in rows)
    by_run = {r["run"]: r for r in rows}
    lstm = by_run["a-lstm"]
    assert (lstm["task"], lstm["model"], lstm["steps"], lstm["monitor"]) == ("lm", "2x8 lstm", 2, "val_loss")
    assert lstm["best"] > 0 and lstm["size_bytes"] > 0 and lstm["error"] == ""
    assert "truncated or corrupted" in by_run["broken"]["error"]


def test_a_run_directory_itself_and_errors(runs_dir, tmp_path):
    code, out, _ = cli("runs", runs_dir / "a-lstm")
    assert code == 0 and len(out.splitlines()) == 2
    assert_error(cli("runs", tmp_path / "missing"), "runs:", "is not a directory")
    code, out, err = cli("runs", tmp_path)
    assert (code, out) == (0, "") and "no runs in" in err


def test_hostile_metadata_is_listed_not_raised(runs_dir, tmp_path, monkeypatch):
    run = tmp_path / "odd"
    run.mkdir()
    (run / "latest.safetensors").write_bytes(b"\x00" * 64)
    meta = {"meta_version": 1, "task": "lm\x1b[31m", "model": {"kind": "language_model", "config": {"rnn": 5}}}
    monkeypatch.setattr(runs_module, "read_run_meta", lambda p: (_ for _ in ()).throw(TypeError("odd")))
    assert runs_module.read_row(run).error == "odd"
    assert runs_module.model_text(meta["model"]["config"]) == "?x? ?"
    assert runs_module.clean(meta["task"]) == "lm?[31m"


def _never(*args, **kwargs):
    raise AssertionError("rnnkit runs loaded the weights")
