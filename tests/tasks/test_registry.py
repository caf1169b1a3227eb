"""The task registry: every task by name, ``rnnkit.load`` dispatching through it."""

from __future__ import annotations

from pathlib import Path

import pytest

import rnnkit
from rnnkit.checkpoint import CheckpointError
from rnnkit.tasks import TASKS, LoadedClassifier, LoadedLanguageModel, LoadedTagger, load, task_named, task_of
from rnnkit.train import TrainConfig

V0 = Path(__file__).resolve().parents[1] / "fixtures" / "v0"


def test_every_task_is_registered_under_its_name():
    assert sorted(TASKS) == ["classify", "lm", "tag", "translate"]
    for name, spec in TASKS.items():
        assert spec.name == name and spec.verb.startswith("rnnkit train")
        defaults = spec.defaults()
        assert set(defaults) == {"data", "model", "train"} and isinstance(defaults["train"], TrainConfig)
        assert isinstance(defaults["model"], spec.model_config_cls) and hasattr(spec.model_cls, "kind")
    with pytest.raises(
        ValueError, match=r"task: expected one of \['classify', 'lm', 'tag', 'translate'\], got 'forecast'"
    ):
        task_named("forecast")


@pytest.mark.parametrize(
    "name, cls, task",
    [("char_lm", LoadedLanguageModel, "lm"), ("classify", LoadedClassifier, "classify"), ("tag", LoadedTagger, "tag")],
)
def test_load_returns_the_tasks_loaded_model(name, cls, task):
    loaded = rnnkit.load(V0 / name)
    assert isinstance(loaded, cls) and task_of(loaded) is TASKS[task] and not loaded.model.training


def test_expect_names_both_tasks_commands():
    with pytest.raises(CheckpointError) as e:
        load(V0 / "classify", expect="lm")
    message = str(e.value)
    assert "holds a sequence_classifier model (from rnnkit train classify)" in message
    assert message.endswith("expected a language_model (trained with rnnkit train)")
