"""Every loaded model's repr is one short line (the model, its vocabulary, the training progress),
never the whole metadata; read from the metadata alone."""

from pathlib import Path

import pytest

import rnnkit
from rnnkit.tasks.summary import progress_summary, rnn_summary

V0 = Path(__file__).resolve().parents[1] / "fixtures" / "v0"


@pytest.mark.parametrize(
    "name, expected",
    [
        ("char_lm", "LoadedLanguageModel(1x8 lstm, 23 chars, step 4, best val_loss 3.1289)"),
        ("word_lm", "LoadedLanguageModel(1x8 gru, 17 words, step 4, best val_loss 2.7772)"),
        ("classify", "LoadedClassifier(1x8 lstm, 2 labels, 9 words, step 4, best val_acc 0.5000)"),
        ("tag", "LoadedTagger(1x8 bidirectional lstm, 3 tags, 9 words, step 4, best val_acc 0.3333)"),
    ],
)
def test_repr_of_every_loaded_kind(name, expected):
    loaded = rnnkit.load(V0 / name)
    assert repr(loaded) == expected and str(loaded) == expected


def test_rnn_summary():
    assert rnn_summary({"num_layers": 2, "hidden_size": 256, "cell": "lstm"}) == "2x256 lstm"
    rnn = {"num_layers": 1, "hidden_size": 1024, "cell": "lstm", "bidirectional": True, "proj_size": 256}
    assert rnn_summary(rnn) == "1x1024 bidirectional lstm proj 256"


def test_progress_summary_without_a_best():
    assert progress_summary({}) == "step 0"
    assert progress_summary({"step": 7, "best_score": float("inf"), "monitor": "val_loss"}) == "step 7"
    assert progress_summary({"step": 7, "best_score": 0.91234, "monitor": "val_acc"}) == "step 7, best val_acc 0.9123"
