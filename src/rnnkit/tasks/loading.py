"""``rnnkit.load(path)``: a checkpoint (or run directory) to a ready-to-use model, through the registry.

What comes back is the checkpoint's task's loaded-model class: a LoadedLanguageModel (generate,
evaluate), a LoadedClassifier (predict, top, evaluate) or a LoadedTagger (tag, evaluate).
Checkpoints of rnnkit 0.1 load too: their metadata is migrated on reading (``rnnkit.tasks.meta``).
``expect`` (a task name) turns "this command needs that kind of model" into a one-line error.

A checkpoint is untrusted input (its checksums are unkeyed). ``check_checkpoint`` reads only the
file's header and checks, before anything big is built or read: the metadata against its schema
(``rnnkit.tasks.schema``), the task and model kind against the registry, every size in the model
config against the number of values the file's tensors hold, the vocabulary's form and size, and
every state_dict key, shape and dtype of the model the config describes (built on the meta device)
against the file's tensors. ``load`` then reads the file, checks the tensors it got once more and
that the weights are finite. Each failure is one CheckpointError line; no code from the file runs.
"""

from __future__ import annotations

import math
from pathlib import Path

import torch

from rnnkit.checkpoint import CheckpointError, Header, dtype_name, load_checkpoint, read_header
from rnnkit.data import DataError, TokenVocab, vocab_from_dict
from rnnkit.infer.loading import resolve_checkpoint
from rnnkit.models import MODEL_KINDS, build_model, layout_mismatch, model_layout
from rnnkit.tasks.meta import RunMeta, migrate
from rnnkit.tasks.registry import TASKS, task_named
from rnnkit.tasks.schema import bad, check_chars, check_complete, check_segmenters, check_sizes, check_translation
from rnnkit.train.device import check_device

#: Any config size above the file's value count by more than this is refused before building.
_SIZE_SLACK = 1024


def load(path, device: str | torch.device = "cpu", expect: str | None = None):
    """Load a checkpoint of any task (or a run directory: its best checkpoint) for inference: the
    task's loaded model (LoadedLanguageModel, LoadedClassifier or LoadedTagger). No code from the
    file is ever run.

    Args:
        expect: a task name ("lm", "classify", "tag"); a checkpoint of another task is an error.

    Raises:
        CheckpointError: the file is missing, damaged, or its metadata and tensors do not describe a
            model of a known task (see ``check_checkpoint``), or it holds non-finite weights.
    """
    device = torch.device(check_device(device, allow_auto=False) if isinstance(device, str) else device)
    path = resolve_checkpoint(path)
    checked, where = _checked(read_header(path), expect)
    ckpt = load_checkpoint(where, map_location=device)
    meta = migrate(ckpt.meta, ckpt.path)
    run = RunMeta.from_dict(meta, ckpt.path)  # the file as read now: a trainer may have replaced it
    if run.to_dict() != checked.to_dict():
        raise bad(ckpt.path, "it changed while it was read", "a checkpoint that is not being replaced")
    check_finite_weights(ckpt.model_state, ckpt.path)
    spec = TASKS[run.task]
    try:  # the tensors read are checked against the model once more, before it is built
        model = build_model(run.model_kind, run.model_config, state=ckpt.model_state).to(device)
    except ValueError as e:
        raise bad(ckpt.path, " ".join(str(e).split()), "weights that fit the model") from None
    model.eval()
    try:
        return spec.loaded(meta, model, device)
    except DataError as e:  # the vocabulary forms were checked by check_checkpoint; a last guard
        raise bad(ckpt.path, str(e), "a vocabulary rnnkit wrote") from None


def check_checkpoint(path, expect: str | None = None) -> RunMeta:
    """Check a run's checkpoint from its header alone (see the module doc) and return its metadata,
    migrated. The run driver's resume can call this before it builds anything.

    Raises:
        CheckpointError: one line naming the file, the field and what was expected.
    """
    return _checked(read_header(resolve_checkpoint(path)), expect)[0]


def task_of(loaded):
    """The spec of a loaded model (what ``load`` returned)."""
    return TASKS[loaded.meta["task"]]


def _checked(header: Header, expect: str | None) -> tuple[RunMeta, Path]:
    where = header.path
    run = RunMeta.from_dict(header.meta, where)
    if run.task not in TASKS:
        raise CheckpointError(f"checkpoint: {where} holds a {run.task!r} run; expected one of {sorted(TASKS)}")
    spec = TASKS[run.task]
    if run.model_kind != spec.model_cls.kind:
        raise bad(where, f"model.kind is {run.model_kind!r} in a {run.task!r} run", repr(spec.model_cls.kind))
    if expect is not None and spec.name != expect:
        wanted = task_named(expect)
        raise CheckpointError(
            f"checkpoint: {where} holds a {spec.model_cls.kind} model (from {spec.verb}); expected a "
            f"{wanted.model_cls.kind} (trained with {wanted.verb})"
        )
    check_complete(run.config, where)
    _check_bounded(run.model_config, header.model, where)
    try:
        layout = model_layout(run.model_kind, run.model_config)
        model_config = MODEL_KINDS[run.model_kind][1].from_dict(run.model_config, "[model]").validate()
    except ValueError as e:
        raise bad(where, " ".join(str(e).split()), "a model config rnnkit wrote") from None
    check_sizes(model_config, _vocab(spec, run.vocab, where), run.to_dict(), where)
    _check_extras(spec, model_config, run, where)
    stored = {k: (dtype, shape) for k, (dtype, shape) in header.model.items()}
    mismatch = layout_mismatch({k: (dtype_name(d), s) for k, (d, s) in layout.items()}, stored)
    if mismatch:
        raise bad(where, f"its weights do not fit the {run.model_kind} its config describes: {mismatch}", "they do")
    return run, where


def _check_bounded(config: dict, tensors: dict, where: Path) -> None:
    """Every size in the model config is at most the values the file holds (so building the model,
    even on the meta device, cannot run away), and num_layers at most its tensor count."""
    values = sum(math.prod(shape) for _, shape in tensors.values())
    stack = [("", config)]
    while stack:
        prefix, table = stack.pop()
        for key, value in table.items():
            if isinstance(value, dict):
                stack.append((f"{prefix}{key}.", value))
            elif type(value) is int:
                limit = len(tensors) if key == "num_layers" else values + _SIZE_SLACK
                if value > limit:
                    raise bad(
                        where,
                        f"model.config {prefix}{key} is {value}, more than its {len(tensors)} tensors of "
                        f"{values} values can hold",
                        f"at most {limit}",
                    )


def _vocab(spec, stored: dict, where: Path):
    try:
        return _read_vocab(spec, stored)
    except (DataError, ValueError, TypeError) as e:
        raise bad(where, " ".join(str(e).split()), "a vocabulary rnnkit wrote") from None


def _read_vocab(spec, stored: dict):
    if spec.name == "lm":
        vocab = vocab_from_dict(stored)
        if vocab.kind not in ("char", "word"):
            raise DataError(f"vocab: a language model's vocabulary has kind {vocab.kind!r}, expected 'char' or 'word'")
        return vocab
    return TokenVocab.from_dict(stored)


def _check_extras(spec, model_config, run: RunMeta, where: Path) -> None:
    """What the task stores beside the vocabulary: a classifier's labels, a tagger's tags and characters,
    a translator's source vocabulary and segmenters."""
    needs = {"classify": ("labels",), "tag": ("tags",), "translate": ("source_vocab", "segmenters")}.get(spec.name, ())
    missing = [k for k in needs if k not in run.extras]
    if missing:
        raise bad(where, f"it has no {', '.join(missing)}", f"a {spec.name} run written by rnnkit")
    if spec.name == "translate":
        vocabs = _vocab(spec, run.vocab, where), _vocab(spec, run.extras["source_vocab"], where)
        check_translation(model_config, *vocabs, where)
        check_segmenters(run.extras["segmenters"], where)
    if spec.name == "tag" and getattr(model_config, "char_features", False):
        if "chars" not in run.extras:
            raise bad(where, "it has no chars (its tagger reads characters)", "a tag run written by rnnkit")
        check_chars(model_config, _vocab(spec, run.extras["chars"], where), where)


def check_finite_weights(state: dict, where: Path) -> None:
    """Raise CheckpointError if a floating tensor of ``state`` holds NaN or inf (a diverged run's
    weights: sampling from them would fail deep in torch). The resume path can call it too."""
    for key, t in state.items():
        if t.is_floating_point() and not bool(torch.isfinite(t).all()):
            raise bad(
                where,
                f"weight {key!r} holds NaN or infinite values (the run diverged?)",
                "finite weights: use an earlier checkpoint of the run",
            )
