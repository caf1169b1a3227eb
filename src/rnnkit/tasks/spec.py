"""A task spec: everything one task (language modelling, classification, tagging) adds to rnnkit.

    configs     defaults()                    {"data", "model", "train"} dataclasses
    data        prepare(cfg, sources, known)  the prepared data (vocabulary, splits; ``known``: a
                                              checkpoint's metadata whose vocabulary to keep, fine-tuning)
                unknown_warning(cfg, data)    the one-line warning when many validation tokens are <unk>
    model       build(cfg, data, device)      -> Built: the model, its trainer Task, its resolved config
    metadata    meta(cfg, built, data, sources) -> RunMeta, and loaded(meta, model, device)
    inference   loaded_cls                    what ``rnnkit.load`` returns for its checkpoints
    report      report(finished, log) after training; evaluate(loaded, request, out) for ``rnnkit eval``

The run driver (``rnnkit.tasks.driver``) does the rest, the same for every task. A new task is a
module defining one ``TaskSpec`` subclass, registered in ``rnnkit.tasks.registry``, with its model
in ``rnnkit.models`` and its CLI verb in ``rnnkit.cli``.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

import torch
from torch import nn

from rnnkit.tasks.digests import KEY, source_digests
from rnnkit.tasks.meta import RunMeta
from rnnkit.train import Task, TrainConfig

Log = Callable[[str], None]
#: the [train] settings that end a run; the first reached stops it
BUDGETS = ("max_steps", "max_epochs", "max_minutes")

#: ``unknown_warning``'s reason and fix when the vocabulary is a checkpoint's (``--init-from``).
FINE_TUNING_ADVICE = (
    "not in the checkpoint's vocabulary",
    "fine-tuning keeps that vocabulary; to learn these words train a new model (without --init-from)",
)


@dataclass
class Built:
    """What ``TaskSpec.build`` returns."""

    model: nn.Module
    task: Task  # the trainer's view of the task
    model_config: object  # the resolved model config (sizes from the data)


@dataclass
class Finished:
    """What ``TaskSpec.report`` gets once training stopped."""

    run_dir: Path
    cfg: dict
    sources: list[str]
    data: object
    device: torch.device
    options: dict = field(default_factory=dict)  # the CLI's extras, e.g. {"sample_length": 300}


@dataclass
class EvalRequest:
    """``rnnkit eval``'s options, as every task's ``evaluate`` reads them."""

    checkpoint: str
    data: list[str] | None = None  # files to evaluate; None: the stored split(s)
    splits: tuple[str, ...] = ("test",)
    unknown: str | None = None
    batch_size: int = 32
    seq_len: int = 100
    as_json: bool = False
    confusion: str | None = None
    beam: int = 5  # translators: beam size (1: greedy) and GNMT length-penalty exponent
    alpha: float = 1.0


class TaskSpec:
    """The base of every task spec; see the module docstring. Class attributes:

    name            registry key, the "task" of its checkpoints ("lm", "classify", "tag")
    title           the run's kind in messages ("language-model", "classify", "tag")
    verb            the command that trains it ("rnnkit train classify")
    model_cls       its model class (``model_cls.kind`` is stored in checkpoints)
    data_config_cls / model_config_cls   its [data] and [model] dataclasses
    default_epochs  the budget when none is given
    base_train      [train] defaults of this task over TrainConfig's (e.g. evaluate every epoch)
    vocab_settings  the [data] settings that define the vocabulary (and labels, tags): a
                    fine-tuning run (``--init-from``) keeps the checkpoint's; its other [data]
                    settings default to the checkpoint's and may be given
    tunable_model   the [model] settings a fine-tuning run may change ("rnn.backend": nested);
                    every other one shapes or initialises the weights it starts from
    unknown_threshold  ``unknown_warning`` warns above this share of <unk> validation tokens
    """

    name: str = ""
    title: str = ""
    verb: str = ""
    model_cls: type = nn.Module
    data_config_cls: type = object
    model_config_cls: type = object
    default_epochs: float = 10.0
    base_train: ClassVar[dict] = {}
    vocab_settings: ClassVar[tuple[str, ...]] = ()
    tunable_model: ClassVar[tuple[str, ...]] = (
        "dropout",
        "rnn.backend",
        "rnn.variational",
        "rnn.recurrent_dropout",
        "rnn.weight_drop",
        "rnn.zoneout",
        "rnn.zoneout_cell",
    )  # regularisers change neither the weights' shapes nor their meaning
    unknown_threshold: float = 0.10

    # ----- configs ------------------------------------------------------------------------------
    def defaults(self) -> dict:
        """{section: dataclass} with this task's defaults."""
        return {"data": self.data_config_cls(), "model": self.model_config_cls(), "train": TrainConfig()}

    def demo(self) -> dict | None:
        """The configuration layer of a run without data files (None: data files are required)."""
        return None

    def base_layer(self, given: dict, sources: list[str], fine_tuning: bool = False) -> dict:
        """The configuration layer under --preset, --config and flags (``given``: what those set,
        {section: {field: value}}; ``sources``: the data files given): the demo without data files;
        else the task's [train] defaults, with ``default_epochs`` when no budget is given."""
        if not sources:
            return copy.deepcopy(self.demo())
        layer = {"train": dict(self.base_train)}
        if not any(given.get("train", {}).get(k) for k in BUDGETS):
            layer["train"]["max_epochs"] = self.default_epochs
        return layer

    def sizing_note(self, cfg: dict, given: dict, sources: list[str], fine_tuning: bool = False) -> str | None:
        """A line saying how the model's size was chosen, when a rule chose it (None: it was not);
        ``sources``: the data files given (none: the demo's)."""
        return None

    def default_monitor(self, cfg: dict) -> str | None:
        """The monitor when none is given (None: TrainConfig's)."""
        return None

    def with_monitor(self, cfg: dict, given: dict) -> dict:
        """``cfg`` with the task's default monitor unless ``given`` (what --preset, --config and
        flags set) names one."""
        monitor = self.default_monitor(cfg)
        if monitor is None or "monitor" in given.get("train", {}):
            return cfg
        return {**cfg, "train": dataclasses.replace(cfg["train"], monitor=monitor)}

    def check_model(self, cfg: dict) -> None:
        """Check the [model] settings before any data is read (where they can be without the data)."""

    def run_name(self, data: list[str]) -> str:
        """The default run directory's name (before the time stamp)."""
        return f"{Path(data[0]).stem}-{self.name}"

    def default_sources(self) -> list[str]:
        return []

    # ----- data, model, metadata ---------------------------------------------------------------
    def prepare(self, cfg: dict, sources: list[str], known: dict | None = None):
        """The data: its vocabulary built from the training split, or ``known``'s (a checkpoint's
        metadata: fine-tuning, see ``rnnkit.tasks.known``)."""
        raise NotImplementedError

    def build(self, cfg: dict, data, device: torch.device) -> Built:
        raise NotImplementedError

    def extras(self, data) -> dict:
        """The task's own metadata entries beside model, vocab and config."""
        return {}

    def meta(self, cfg: dict, built: Built, data, sources: list[str]) -> RunMeta:
        model_config = built.model_config.to_dict()
        config = {
            "data": dataclasses.asdict(cfg["data"]),
            "model": model_config,
            "train": dataclasses.asdict(cfg["train"]),
            "source": list(sources),
            "task": self.name,
        }
        config[KEY] = source_digests(config)  # what eval of a stored split checks the files against
        vocab = data.vocab.to_dict()
        return RunMeta(self.name, self.model_cls.kind, model_config, vocab, config, self.extras(data))

    def check_same_data(self, data, stored: RunMeta, sources: list[str]) -> None:
        """On resume: the data must give the vocabulary the checkpoint was trained with."""
        if data.vocab.to_dict() != stored.vocab:
            raise ValueError(
                f"resume: the vocabulary built from {', '.join(sources)} differs from the checkpoint's; expected the "
                "same training data"
            )

    # ----- unknown tokens -----------------------------------------------------------------------
    def unknown_tokens(self, data, split: str) -> tuple[int, int]:
        """(tokens of ``split`` read as <unk>, all its tokens); (0, 0): nothing counted."""
        return 0, 0

    def unknown_advice(self, cfg: dict, data) -> tuple[str, str]:
        """(what the <unk> tokens are, what to do about many of them), for ``unknown_warning``."""
        return "unseen in training", "check that the held-out data is like the training data"

    def unknown_warning(self, cfg: dict, data, fine_tuning: bool = False) -> str | None:
        """One line when more than ``unknown_threshold`` of the validation split's tokens (the
        test split's when there is no validation split) are <unk>, saying why and what to do
        (``fine_tuning``: the vocabulary is a checkpoint's, none of its settings can change)."""
        splits = (("val", "validation"), ("test", "test"))
        counted = ((name, *self.unknown_tokens(data, split)) for split, name in splits)
        name, unknown, total = next((c for c in counted if c[2]), ("", 0, 0))
        if unknown <= self.unknown_threshold * total:
            return None
        what, fix = FINE_TUNING_ADVICE if fine_tuning else self.unknown_advice(cfg, data)
        return f"warning: {unknown / total:.0%} of the {name} tokens are <unk> ({what}); {fix}"

    # ----- messages and reports ----------------------------------------------------------------
    def description(self, cfg: dict, built: Built, data) -> str:
        """The log line of a new run, before " on DEVICE; run directory DIR"."""
        raise NotImplementedError

    def best_text(self, best: float, cfg: dict, data) -> str:
        """The end-of-training summary of the best checkpoint's score."""
        return f"best {cfg['train'].monitor} {best:.4f}"

    def report(self, finished: Finished, log: Log) -> None:
        """After training: e.g. the best checkpoint on the test split."""

    # ----- inference ---------------------------------------------------------------------------
    def loaded(self, meta: dict, model: nn.Module, device: torch.device):
        """The ready-to-use model ``rnnkit.load`` returns."""
        raise NotImplementedError

    def evaluate(self, loaded, request: EvalRequest, out: Log) -> None:
        """``rnnkit eval`` of one of this task's checkpoints."""
        raise NotImplementedError
