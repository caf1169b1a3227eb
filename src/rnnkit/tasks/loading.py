"""``rnnkit.load(path)``: a checkpoint (or run directory) to a ready-to-use model, through the registry.

What comes back is the checkpoint's task's loaded-model class: a LoadedLanguageModel (generate,
evaluate), a LoadedClassifier (predict, top, evaluate) or a LoadedTagger (tag, evaluate).
Checkpoints of rnnkit 0.1 load too: their metadata is migrated on reading (``rnnkit.tasks.meta``).
``expect`` (a task name) turns "this command needs that kind of model" into a one-line error."""

from __future__ import annotations

import torch

from rnnkit.checkpoint import CheckpointError, load_checkpoint
from rnnkit.infer.loading import resolve_checkpoint
from rnnkit.models import build_model
from rnnkit.tasks.meta import RunMeta, migrate
from rnnkit.tasks.registry import TASKS, task_named


def load(path, device: str | torch.device = "cpu", expect: str | None = None):
    """Load a checkpoint for inference (no code from the file is ever run).

    Args:
        expect: a task name ("lm", "classify", "tag"); a checkpoint of another task is an error.
    """
    device = torch.device(device)
    ckpt = load_checkpoint(resolve_checkpoint(path), map_location=device)
    meta = migrate(ckpt.meta, ckpt.path)
    run = RunMeta.from_dict(meta, ckpt.path)
    if run.task not in TASKS:
        raise CheckpointError(f"checkpoint: {ckpt.path} holds a {run.task!r} run; expected one of {sorted(TASKS)}")
    spec = TASKS[run.task]
    if expect is not None and spec.name != expect:
        wanted = task_named(expect)
        raise CheckpointError(
            f"checkpoint: {ckpt.path} holds a {spec.model_cls.kind} model (from {spec.verb}); expected a "
            f"{wanted.model_cls.kind} (trained with {wanted.verb})"
        )
    model = build_model(run.model_kind, run.model_config).to(device)
    model.load_state_dict(ckpt.model_state)
    model.eval()
    return spec.loaded(meta, model, device)


def task_of(loaded):
    """The spec of a loaded model (what ``load`` returned)."""
    return TASKS[loaded.meta["task"]]
