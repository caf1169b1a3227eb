"""The checkpoint metadata of a training run, typed, written and read here only (and migrated).

A checkpoint's user metadata (``rnnkit.checkpoint``) is one JSON object:

    meta_version   1 (absent: rnnkit 0.1, migrated on reading; see ``migrate``)
    task           the task's registry name: "lm", "classify", "tag"
    model          {"kind": the model class's kind, "config": its config dict, rnn settings nested}
    vocab          the vocabulary's dict (``to_dict``)
    config         the resolved run configuration: {"data", "model", "train", "source", "task"};
                   also written to the run directory as config.json
    <extras>       the task's own entries: "labels" (classify); "chars", "tags" (tag)
    <trainer>      the trainer's entries (``rnnkit.train.TRAINER_KEYS``: step, epoch, index,
                   best_score, monitor, best_tiebreak_loss, loss_guard, eval), read by the trainer

A checkpoint is untrusted input: ``RunMeta.from_dict`` checks the metadata against its schema
(``rnnkit.tasks.schema``) and fails in one CheckpointError line naming the file and the field.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path

from rnnkit.checkpoint import CheckpointError
from rnnkit.models import MODEL_KINDS
from rnnkit.tasks.schema import bad, check_meta
from rnnkit.train import TRAINER_KEYS

META_VERSION = 1
BASE_KEYS = ("meta_version", "task", "model", "vocab", "config")
#: rnnkit 0.1 stored no task for language models: the task of each model kind then.
V0_TASK_OF_KIND = {"language_model": "lm", "sequence_classifier": "classify", "sequence_tagger": "tag"}


@dataclass
class RunMeta:
    """What a run stores beside the weights, the trainer's entries aside (``trainer``)."""

    task: str
    model_kind: str
    model_config: dict
    vocab: dict
    config: dict
    extras: dict = field(default_factory=dict)
    trainer: dict = field(default_factory=dict)

    @property
    def sources(self) -> list[str]:
        return list(self.config["source"])

    def to_dict(self) -> dict:
        """The metadata dict the trainer saves (it adds its own entries to it)."""
        return {
            "meta_version": META_VERSION,
            "task": self.task,
            "model": {"kind": self.model_kind, "config": self.model_config},
            "vocab": self.vocab,
            **self.extras,
            "config": self.config,
        }

    @classmethod
    def from_dict(cls, meta: dict, where: str | Path) -> RunMeta:
        """Read (and first migrate) a checkpoint's metadata. Raises CheckpointError naming ``where``
        when it holds no rnnkit training run or breaks the schema (``rnnkit.tasks.schema``)."""
        meta = migrate(meta, where)
        check_meta(meta, where)
        model = meta["model"]
        trainer = {k: meta[k] for k in TRAINER_KEYS if k in meta}
        extras = {k: v for k, v in meta.items() if k not in BASE_KEYS and k not in TRAINER_KEYS}
        return cls(meta["task"], model["kind"], model["config"], meta["vocab"], meta["config"], extras, trainer)


def migrate(meta: dict, where: str | Path) -> dict:
    """Metadata of any earlier version in today's layout (a new dict; ``meta`` is not changed).

    From rnnkit 0.1 (no meta_version): the recurrent settings of the model config, flat in
    ``model.config`` and ``config.model`` (cell, hidden_size, ...), move under "rnn"; a language
    model gets its task "lm"; the trainer's "best_val_loss" (the best value of ``monitor``, an
    accuracy for classifiers) becomes "best_score"."""
    if not isinstance(meta, dict):
        raise bad(where, f"its metadata is a {type(meta).__name__}", "a JSON object written by rnnkit train")
    version = meta.get("meta_version", 0)
    if type(version) is int and version == META_VERSION:
        return meta
    if type(version) is not int or version != 0:
        raise CheckpointError(
            f"checkpoint: {where} has metadata version {version!r}; expected {META_VERSION} or older "
            "(written by a newer rnnkit?)"
        )
    meta = copy.deepcopy(meta)
    model = meta.get("model")
    if not isinstance(model, dict) or model.get("kind") not in MODEL_KINDS:
        return meta  # nothing of ours to migrate; RunMeta.from_dict says what is missing
    config_cls = MODEL_KINDS[model["kind"]][1]
    model["config"] = _v0_model(config_cls, model.get("config", {}), where)
    meta.setdefault("task", V0_TASK_OF_KIND[model["kind"]])
    config = meta.get("config")
    if isinstance(config, dict):
        if isinstance(config.get("model"), dict):
            config["model"] = _v0_model(config_cls, config["model"], where)
        config.setdefault("task", meta["task"])
    if "best_val_loss" in meta:
        meta["best_score"] = meta.pop("best_val_loss")
    meta["meta_version"] = META_VERSION
    return meta


def _v0_model(config_cls, values, where) -> dict:
    """An rnnkit 0.1 model config (flat recurrent settings) in today's nested form."""
    if not isinstance(values, dict):
        raise bad(where, f"model.config is a {type(values).__name__}", "the model's config as an object")
    try:
        return config_cls.from_dict(values, "the checkpoint's [model]").to_dict()
    except (ValueError, TypeError) as e:
        raise bad(where, " ".join(str(e).split()).removeprefix("config: "), "a model config rnnkit wrote") from None
