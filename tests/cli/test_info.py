"""``rnnkit info RUN``: the resolved configuration, the data, where the weights started, a metrics
summary and the files, from the checkpoint's header only; --json."""

import json

from rnnkit.checkpoint import load_checkpoint, read_meta, save_checkpoint
from rnnkit.cli.info import metrics_summary, train_seconds

from ._harness import assert_error, cli


def test_text_shows_config_data_metrics_and_files(run, monkeypatch):
    monkeypatch.setattr("rnnkit.checkpoint.read_container", _never)  # what reads the weights
    code, out, err = cli("info", run)
    assert code == 0 and "Traceback" not in err
    assert f"checkpoint  {run / 'latest.safetensors'} (step 6, best val_loss " in out
    assert "task        lm: 1x16 lstm, " in out and " parameters" in out
    assert "corpus.txt" in out and "sha256 " in out and " char tokens" in out
    assert "best eval   step " in out and "last eval   step 6: val_loss " in out
    assert "train time  " in out and " tokens/s" in out
    for table in ("[data]", "[model]", "[model.rnn]", "[train]", "[files]"):
        assert f"\n{table}\n" in out
    assert "hidden_size = 16" in out and "max_steps = 6" in out
    assert "latest.safetensors" in out.split("[files]")[1] and "metrics.jsonl" in out
    assert "init from" not in out


def test_json_and_a_checkpoint_file(run):
    code, out, _ = cli("info", run / "best.safetensors", "--json")
    assert code == 0
    info = json.loads(out)
    assert info["checkpoint"] == str(run / "best.safetensors") and info["run"] == str(run)
    assert info["task"] == "lm" and info["model"]["text"] == "1x16 lstm" and info["model"]["parameters"] > 0
    assert info["config"]["model"]["rnn"]["hidden_size"] == 16
    data = info["data"]
    assert data["unit"] == "char" and data["vocab_size"] == len(read_meta(run / "best.safetensors")["vocab"]["chars"])
    assert [s["path"].endswith("corpus.txt") and len(s["sha256"]) == 64 for s in data["sources"]] == [True]
    metrics = info["metrics"]
    assert metrics["steps"] == 6 and metrics["last_eval"]["step"] == 6 and metrics["throughput"] > 0
    assert metrics["best_eval"]["val_loss"] == min(r["val_loss"] for r in _evals(run))
    assert {f["name"] for f in info["files"]} >= {"best.safetensors", "latest.safetensors", "metrics.jsonl"}
    assert info["init_from"] is None


def test_init_from_is_shown_when_the_metadata_has_it(run, tmp_path):
    ckpt = load_checkpoint(run / "latest.safetensors")
    meta = {**ckpt.meta, "init_from": {"run": "runs/base", "checkpoint": "runs/base/best.safetensors", "step": 900}}
    save_checkpoint(tmp_path / "latest", ckpt.model_state, meta, rng=False)
    code, out, _ = cli("info", tmp_path)
    assert code == 0
    assert "init from   run runs/base, checkpoint runs/base/best.safetensors, step 900" in out
    assert "metrics     none" in out
    code, out, _ = cli("info", tmp_path, "--json")
    assert json.loads(out)["init_from"]["step"] == 900


def test_bad_paths_are_one_line(tmp_path):
    assert_error(cli("info", tmp_path / "nope"), "info: no such run directory or checkpoint")
    assert_error(cli("info", tmp_path), "holds no checkpoint")
    (tmp_path / "x.safetensors").write_bytes(b"garbage")
    assert_error(cli("info", tmp_path / "x.safetensors"), "x.safetensors")


def test_metrics_summary_spans_resumed_segments_and_skips_junk(tmp_path):
    assert train_seconds([{"elapsed_s": 5.0}, {"elapsed_s": 9.0}, {"elapsed_s": 2.0}, {"elapsed_s": 4.0}]) == 13.0
    path = tmp_path / "metrics.jsonl"
    lines = [
        {"kind": "train", "step": 1, "epoch": 0.5, "tokens_per_s": 10.0, "elapsed_s": 1.0},
        {"kind": "eval", "step": 1, "val_loss": 2.0, "val_acc": 0.5, "elapsed_s": 1.5},
        {"kind": "eval", "step": 2, "val_loss": 1.0, "val_acc": 0.4, "elapsed_s": 2.5},
    ]
    path.write_text("\n".join(json.dumps(r) for r in lines) + "\nnot json\n[1, 2]\n")
    summary = metrics_summary(path, "val_acc", "classify")
    assert summary["records"] == 3 and summary["best_eval"]["step"] == 1 and summary["last_eval"]["step"] == 2
    assert (summary["throughput"], summary["throughput_unit"]) == (10.0, "examples/s")
    assert metrics_summary(path, "val_loss", "lm")["best_eval"]["step"] == 2
    assert metrics_summary(tmp_path / "none.jsonl", "val_loss", "lm") == {}


def _evals(run):
    records = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    return [r for r in records if r["kind"] == "eval"]


def _never(*args, **kwargs):
    raise AssertionError("rnnkit info loaded the weights")
