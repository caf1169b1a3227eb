"""``--init-from RUN``: fine-tuning a language model from another run's weights (issue 13, item 3).

RUN's weights, model and vocabulary; a fresh optimiser, schedule, step count and run directory;
the new run records where it started and resumes without RUN."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch

from rnnkit.checkpoint import load_checkpoint, read_meta
from rnnkit.checkpoint.container import tensor_digest
from rnnkit.data import tokenize, vocab_from_dict
from rnnkit.tasks import driver
from tests.cli._harness import assert_error, cli, ok
from tests.cli._runs import TINY, corpus_text, files, one_thread
from tests.train._compare import assert_same_checkpoint

V0 = Path(__file__).resolve().parents[1] / "fixtures" / "v0"
QUIET = ("--sample-length", 0)


@pytest.fixture(scope="module")
def texts(tmp_path_factory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("texts")
    out = {"old": d / "old.txt", "new": d / "new.txt", "odd": d / "odd.txt"}
    out["old"].write_text(corpus_text(200, seed=0))
    out["new"].write_text(corpus_text(80, seed=1))  # the same words, other sentences
    out["odd"].write_text(corpus_text(80, seed=1) + "café straße\tcafé\t\n")
    return out


@pytest.fixture(scope="module")
def base_run(texts, tmp_path_factory) -> Path:
    """RUN: a character model trained on old.txt for 60 steps."""
    run = tmp_path_factory.mktemp("runs") / "base"
    with one_thread():
        ok("train", texts["old"], "--run-dir", run, "--max-steps", 60, "--eval-every", 30, "--lr", 0.01, *QUIET, *TINY)
    return run


def fine_tune(texts, base_run, run_dir, *more) -> str:
    code, _, err = cli("train", texts["new"], "--init-from", base_run, "--run-dir", run_dir, *QUIET, *TINY, *more)
    assert code == 0 and "Traceback" not in err, err
    return err


def first_loss(run_dir: Path) -> float:
    records = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    return next(r["train_loss"] for r in records if r["kind"] == "train")


def test_the_weights_start_as_run_s_and_the_optimiser_and_step_are_fresh(texts, base_run, tmp_path, monkeypatch):
    seen = {}

    class Watched(driver.Trainer):
        def fit(self):
            seen["state"] = {k: t.clone() for k, t in self.model.state_dict().items()}
            seen["optimizer"] = self.optimizer.state_dict()["state"]
            seen["step"], seen["lr"] = self.step, self.optimizer.param_groups[0]["lr"]
            return super().fit()

    monkeypatch.setattr(driver, "Trainer", Watched)
    before = files(base_run)
    err = fine_tune(texts, base_run, tmp_path / "tuned", "--max-steps", 4, "--eval-every", 2, "--lr", 0.004)
    run_state = load_checkpoint(base_run / "best.safetensors").model_state
    assert seen["state"].keys() == run_state.keys()
    for key, t in run_state.items():
        assert torch.equal(seen["state"][key], t), key
    assert seen["optimizer"] == {} and seen["step"] == 0 and seen["lr"] == 0.004  # no moments, the new lr
    assert files(base_run) == before  # RUN is only read
    digest = tensor_digest({k: t.contiguous() for k, t in run_state.items()})
    record = {"path": str((base_run / "best.safetensors").resolve()), "step": 60, "weights_sha256": digest}
    assert json.loads((tmp_path / "tuned" / "config.json").read_text())["init_from"] == record
    assert read_meta(tmp_path / "tuned" / "best.safetensors")["config"]["init_from"] == record
    assert err.splitlines()[0] == (
        f"init-from: the weights of {base_run / 'best.safetensors'} (step 60, sha256 {digest[:12]}); "
        "a fresh optimiser, schedule and step count"
    )
    assert read_meta(tmp_path / "tuned" / "latest.safetensors")["step"] == 4  # its own step count


def test_the_first_loss_on_new_text_is_lower_than_a_fresh_model_s(texts, base_run, tmp_path):
    common = ("--max-steps", 2, "--eval-every", 2, "--log-every", 1, "--seed", 7)
    fine_tune(texts, base_run, tmp_path / "tuned", *common)
    with one_thread():
        ok("train", texts["new"], "--run-dir", tmp_path / "fresh", *common, *QUIET, *TINY)
    assert first_loss(tmp_path / "tuned") < first_loss(tmp_path / "fresh") - 0.3


def test_a_checkpoint_file_and_dropout_may_be_given(texts, base_run, tmp_path):
    fine_tune(texts, base_run / "latest.safetensors", tmp_path / "tuned", "--max-steps", 2, "--dropout", 0.3)
    config = json.loads((tmp_path / "tuned" / "config.json").read_text())
    assert config["model"]["dropout"] == 0.3 and config["model"]["rnn"]["hidden_size"] == 16
    assert config["init_from"]["path"].endswith("latest.safetensors")


def test_a_fine_tuned_run_resumes_exactly_without_run(texts, base_run, tmp_path):
    """Resume of a fine-tuned run is any resume: bit-exact, and RUN may be gone by then."""
    run = Path(shutil.copytree(base_run, tmp_path / "base"))
    fine_tune(texts, run, tmp_path / "full", "--max-steps", 6, "--eval-every", 3)
    fine_tune(texts, run, tmp_path / "part", "--max-steps", 3, "--eval-every", 3)
    shutil.rmtree(run)
    with one_thread():
        code, _, err = cli("train", "--resume", tmp_path / "part", "--max-steps", 6, "--no-progress", *QUIET)
    assert code == 0, err
    assert f"resuming {tmp_path / 'part'} at step 3" in err
    assert assert_same_checkpoint(tmp_path / "full" / "latest.safetensors", tmp_path / "part" / "latest.safetensors")
    init = json.loads((tmp_path / "part" / "config.json").read_text())["init_from"]
    assert init == json.loads((tmp_path / "full" / "config.json").read_text())["init_from"]
    assert ok("eval", tmp_path / "part").startswith("the test split: ")  # the stored split, RUN's vocabulary


def test_characters_run_lacks_are_refused_listed(texts, base_run, tmp_path):
    line = assert_error(cli("train", texts["odd"], "--init-from", base_run, "--run-dir", tmp_path / "x", *TINY))
    n = len(vocab_from_dict(read_meta(base_run / "best.safetensors")["vocab"]).ordinary)
    assert line == (
        f"rnnkit: error: init-from: expected only the checkpoint's {n} characters, got 4 others in {texts['odd']}: "
        "'\\t' (2x), 'f' (2x), 'é' (2x), 'ß' (1x); replace or remove them in the text, or train a new "
        "model on it (without --init-from)"
    )
    assert not (tmp_path / "x").exists()


@pytest.mark.parametrize(
    "flags, expected",
    [
        (
            ("--hidden-size", 32, "--cell", "gru", "--dropout", 0.1),
            "rnnkit: error: init-from: the model is the checkpoint's ({best}); expected no change to its "
            "architecture (only --dropout, --backend, --variational, --recurrent-dropout, "
            "--weight-drop, --zoneout and --zoneout-cell may be given), got --cell gru (it has lstm), "
            "--hidden-size 32 (it has 16)",
        ),
        (
            ("--tokens", "word"),
            "rnnkit: error: init-from: the vocabulary is the checkpoint's ({best}); expected none of the data "
            "settings that define it (--tokens, mode (--line-mode), --vocab-size, --min-freq) to change, got "
            "--tokens word (it has char)",
        ),
    ],
)
def test_options_that_would_change_run_s_model_or_vocabulary_are_refused(texts, base_run, tmp_path, flags, expected):
    result = cli("train", texts["new"], "--init-from", base_run, "--run-dir", tmp_path / "x", *TINY, *flags)
    assert assert_error(result) == expected.format(best=base_run / "best.safetensors")


def test_the_other_refusals(texts, base_run, tmp_path):
    new = texts["new"]
    assert assert_error(cli("train", new, "--init-from", base_run, "--resume", base_run)) == (
        "rnnkit: error: init-from: expected --init-from RUN (a new run from RUN's weights) or --resume RUN_DIR "
        "(continue that run), got both"
    )
    assert assert_error(cli("train", "--init-from", base_run)) == (
        f"rnnkit: error: init-from: expected the data to fine-tune on, e.g. `rnnkit train DATA --init-from {base_run}`"
    )
    before = files(base_run)
    assert assert_error(cli("train", new, "--init-from", base_run, "--run-dir", base_run, *TINY)) == (
        f"rnnkit: error: init-from: the new run's directory {base_run} holds best.safetensors, the checkpoint it "
        "starts from; expected another --run-dir (fine-tuning never writes into the run it starts from)"
    )
    assert files(base_run) == before
    assert assert_error(cli("train", "classify", new, "--init-from", base_run)) == (
        f"rnnkit: error: init-from: {base_run} holds a language-model run; fine-tune it with "
        f"`rnnkit train DATA --init-from {base_run}`"
    )
    assert_error(cli("train", new, "--init-from", tmp_path / "nothing.safetensors"), "nothing.safetensors")


def test_word_level_fine_tuning_reads_unseen_words_as_unk_and_says_how_many(tmp_path):
    """A v0 (rnnkit 0.1) word model: old checkpoints are fine-tuned too."""
    text = tmp_path / "new.txt"
    text.write_text((V0 / "text.txt").read_text() + "zebra quagga zebra\n")
    with one_thread():
        code, _, err = cli(
            "train", text, "--init-from", V0 / "word_lm", "--run-dir", tmp_path / "t", "--max-steps", 2,
            "--split", "1,0,0", "--no-progress", *QUIET,
        )  # fmt: skip
    assert code == 0, err
    total = len(tokenize(text.read_text(), final_eos=True))
    assert f"init-from: 3 of the {total:,} training tokens ({3 / total:.1%}) are not in the checkpoint's " in err
    assert (
        read_meta(tmp_path / "t" / "best.safetensors")["vocab"]
        == read_meta(V0 / "word_lm" / "best.safetensors")["vocab"]
    )
