"""The tasks, registered by name (the "task" stored in their checkpoints)."""

from __future__ import annotations

from rnnkit.tasks.classify.spec import CLASSIFY
from rnnkit.tasks.lm.spec import LM
from rnnkit.tasks.spec import TaskSpec
from rnnkit.tasks.tag.spec import TAG
from rnnkit.tasks.translate.spec import TRANSLATE

TASKS: dict[str, TaskSpec] = {spec.name: spec for spec in (LM, CLASSIFY, TAG, TRANSLATE)}


def task_named(name: str) -> TaskSpec:
    if name not in TASKS:
        raise ValueError(f"task: expected one of {sorted(TASKS)}, got {name!r}")
    return TASKS[name]
