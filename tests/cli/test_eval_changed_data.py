"""``rnnkit eval RUN`` on a stored split rebuilds it from the training files: after those changed, it
refuses in one line naming the file instead of printing other numbers (issue 12, item 11)."""

import json

from rnnkit.checkpoint import read_meta

from ._harness import assert_error, cli, ok
from ._runs import TINY


def test_eval_refuses_a_changed_training_file_and_old_runs_keep_working(data_dir, tmp_path):
    text = tmp_path / "corpus.txt"
    text.write_text((data_dir / "corpus.txt").read_text())
    run = tmp_path / "run"
    ok("train", text, "--run-dir", run, "--max-steps", 2, "--sample-length", 0, *TINY)
    digests = read_meta(run / "best.safetensors")["config"]["source_digests"]
    assert [(d["path"], d["size"]) for d in digests] == [(str(text.resolve()), text.stat().st_size)]
    before = json.loads(ok("eval", run, "--json"))

    original = text.read_text()
    text.write_text(original.replace("cat", "cow"))  # same size: the sha256 tells
    assert_error(cli("eval", run), "eval: the training file", str(text.resolve()), "changed since training")
    text.write_text(original + "zebra quilts\n")  # new symbols: the vocabulary differs too
    assert_error(cli("eval", run, "--split", "val"), "changed since training")
    text.unlink()
    assert_error(cli("eval", run), "eval: the training file", "is gone")
    text.write_text(original)
    assert json.loads(ok("eval", run, "--json")) == before
