"""The run metadata: one typed layout, and the migration of rnnkit 0.1's (tests/fixtures/v0)."""

from __future__ import annotations

from pathlib import Path

import pytest

from rnnkit.checkpoint import CheckpointError, read_meta
from rnnkit.models import MODEL_KINDS
from rnnkit.tasks import META_VERSION, RunMeta, migrate

V0 = Path(__file__).resolve().parents[1] / "fixtures" / "v0"
RNN_KEYS = {"cell", "hidden_size", "num_layers", "backend", "nonlinearity", "reset_after", "forget_bias"}


@pytest.mark.parametrize("name, task", [("char_lm", "lm"), ("word_lm", "lm"), ("classify", "classify"), ("tag", "tag")])
def test_v0_metadata_is_migrated(name, task):
    old = read_meta(V0 / name / "latest.safetensors")
    assert "meta_version" not in old and RNN_KEYS <= set(old["model"]["config"])  # the flat 0.1 layout
    new = migrate(old, name)
    assert new["meta_version"] == META_VERSION and new["task"] == task and new["config"]["task"] == task
    for config in (new["model"]["config"], new["config"]["model"]):
        assert "rnn" in config and not RNN_KEYS & set(config)  # the flat recurrent keys now nest
        assert config["rnn"]["hidden_size"] == 8 and config["rnn"]["num_layers"] == 1
        assert config["rnn"]["cell"] == old["model"]["config"]["cell"]
    assert new["best_score"] == old["best_val_loss"] and "best_val_loss" not in new
    assert migrate(new, name) == new  # today's layout passes through
    assert old == read_meta(V0 / name / "latest.safetensors")  # the input is not changed


def test_migrated_model_configs_rebuild_the_same_model():
    old = read_meta(V0 / "classify" / "best.safetensors")
    kind = old["model"]["kind"]
    config_cls = MODEL_KINDS[kind][1]
    flat = config_cls.from_dict(old["model"]["config"])
    nested = config_cls.from_dict(migrate(old, "x")["model"]["config"])
    assert flat == nested


def test_run_meta_round_trip_and_split_of_trainer_keys():
    meta = RunMeta("tag", "sequence_tagger", {"num_tags": 3}, {"symbols": []}, {"source": ["a"]}, {"tags": ["X"]})
    stored = {**meta.to_dict(), "step": 4, "best_score": 0.5}
    back = RunMeta.from_dict(stored, "here")
    assert back.extras == {"tags": ["X"]} and back.trainer == {"step": 4, "best_score": 0.5}
    assert back.sources == ["a"] and back.to_dict() == meta.to_dict()


def test_unknown_versions_and_foreign_metadata_are_refused():
    with pytest.raises(CheckpointError, match=r"has metadata version 99; expected 1 or older"):
        migrate({"meta_version": 99}, "f.safetensors")
    with pytest.raises(CheckpointError, match="f.safetensors has no model description; expected one written by rnnkit"):
        RunMeta.from_dict({"step": 1}, "f.safetensors")
