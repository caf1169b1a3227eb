"""Checkpoints: weights, training state and everything needed to resume or sample, in one file.

A checkpoint is ONE standard safetensors file, NAME.safetensors, holding every tensor:

    model.<key>              the model's state_dict
    extra.<key>              other model-side tensors, e.g. a carried TBPTT hidden state
    optim.<path>             optimiser tensors, e.g. optim.state.0.exp_avg
    sched.<path>             scheduler tensors (rare: tensor learning rates)
    rng.torch, rng.cuda.<i>, rng.python.state, rng.numpy.key      generator states

and, in the safetensors header metadata under the key "rnnkit", a JSON document: format_version, kind,
created, rnnkit/torch versions, the user's meta (config, vocabulary, step, best validation loss, ...),
the non-tensor parts of the optimiser/scheduler/RNG states (codec.py says how types survive JSON),
tied-weight aliases, and two sha256 checksums (container.py). Nothing is ever unpickled: reading is
JSON plus raw tensor bytes.

Why one file. The weights and the JSON that describes them must change together. With two files, a kill
between the two renames would pair new weights with an old step/optimiser state. With one file, a single
os.replace() is the commit point (atomic.py: temp file in the same directory, fsync, os.replace, fsync
the directory), so a kill at any moment leaves either the previous checkpoint or the new one, whole.

The sidecar. After the commit, NAME.json is written (also atomically): a pretty-printed copy of the
document for humans and shell tools. It is never read back. A kill between the two renames leaves a
stale sidecar next to a new checkpoint, which is harmless because loading reads the .safetensors header.

Exact resume: with the optimiser, scheduler and RNG states saved, training that loads a checkpoint and
continues produces bit-identical parameters to training that never stopped (tests/checkpoint).

Device-agnostic: tensors are moved to the CPU before saving; load_checkpoint puts the model weights and
extra tensors on `map_location` and leaves optimiser/scheduler tensors on the CPU, since
Optimizer.load_state_dict moves each state tensor to its parameter's device anyway (and keeps
non-capturable 'step' counters on the CPU, where torch wants them).

Errors: a missing, truncated, corrupted, foreign or other-version file raises CheckpointError (a
ValueError) with one line that names the file.

Untrusted files: the checksums are unkeyed, so they catch damage, not edits. Every size in a file is
bounded by its real size before anything is allocated (container.py), a file that would not fit in
memory is refused before it is read, and ``read_header`` gives a file's metadata and its model
tensors' dtypes and shapes without reading the data, so a loader can check them against the model
the metadata describes first (``rnnkit.tasks.loading``).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata as _metadata
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from .atomic import atomic_write
from .codec import decode, encode
from .container import (
    FORMAT_VERSION,
    CheckpointError,
    dtype_name,
    read_container,
    read_document,
    read_layout,
    write_container,
)
from .rng import capture_rng_state, restore_rng_state

__all__ = [
    "FORMAT_VERSION",
    "Checkpoint",
    "CheckpointError",
    "capture_rng_state",
    "Header",
    "checkpoint_paths",
    "dtype_name",
    "load_checkpoint",
    "read_header",
    "read_meta",
    "restore_rng_state",
    "save_checkpoint",
]

WEIGHTS_SUFFIX = ".safetensors"
SIDECAR_SUFFIX = ".json"


@dataclass
class Checkpoint:
    """What load_checkpoint returns.

    Attributes:
        model_state: {key: tensor} for model.load_state_dict; tied keys are the same tensor object.
        extra_tensors: the extra_tensors given to save_checkpoint ({} if none).
        meta: the user meta given to save_checkpoint (config, vocab, step, best_score, ...).
        optimizer_state: for optimizer.load_state_dict, or None if none was saved.
        scheduler_state: for scheduler.load_state_dict, or None if none was saved.
        rng_state: for restore_rng_state, or None if rng=False was saved.
        path: the .safetensors file that was read.
        created: UTC time of saving, ISO 8601.
        rnnkit_version: the rnnkit version that wrote it.
    """

    model_state: dict[str, Tensor]
    meta: dict[str, Any]
    extra_tensors: dict[str, Tensor] = field(default_factory=dict)
    optimizer_state: Any = None
    scheduler_state: Any = None
    rng_state: dict | None = None
    path: Path | None = None
    created: str = ""
    rnnkit_version: str = ""


@dataclass
class Header:
    """What read_header returns: the user meta and, for each model_state key, its tensor's
    (safetensors dtype name, e.g. "F32", shape), read from the file's header only."""

    meta: dict[str, Any]
    model: dict[str, tuple[str, tuple[int, ...]]]
    path: Path


def checkpoint_paths(path: str | os.PathLike) -> tuple[Path, Path]:
    """(NAME.safetensors, NAME.json) for a path given as NAME, NAME.safetensors or NAME.json.

    Any other suffix is part of the name: "runs/step.1000" -> "runs/step.1000.safetensors".
    """
    p = Path(path)
    if not p.name:
        raise ValueError(f"checkpoint path: expected a file path, got {str(path)!r}")
    base = p.with_suffix("") if p.suffix in (WEIGHTS_SUFFIX, SIDECAR_SUFFIX) else p
    return base.with_name(base.name + WEIGHTS_SUFFIX), base.with_name(base.name + SIDECAR_SUFFIX)


def save_checkpoint(
    path: str | os.PathLike,
    model_state: dict[str, Tensor],
    meta: dict,
    optimizer_state: Any = None,
    scheduler_state: Any = None,
    rng: bool | dict = True,
    extra_tensors: dict[str, Tensor] | None = None,
) -> Path:
    """Save a checkpoint atomically: the previous file at `path` survives any failure or kill.

    Args:
        path: NAME, NAME.safetensors or NAME.json; missing parent directories are created.
        model_state: model.state_dict(); tied (same-view) tensors are stored once.
        meta: JSON-like user data (dicts, lists, tuples, str, numbers incl. inf/nan, bool, None),
            e.g. {"config": ..., "vocab": [...], "step": 1200, "best_score": 3.1}. No tensors.
        optimizer_state: optimizer.state_dict() (or any tree of those values and tensors).
        scheduler_state: scheduler.state_dict() (same).
        rng: True to capture the global RNGs now, False for none, or a dict from capture_rng_state().
        extra_tensors: {name: tensor} of model-side state that is not in the state_dict (a carried
            hidden state); comes back as Checkpoint.extra_tensors on map_location.

    Returns:
        The path of the .safetensors file (the sidecar is the same name with .json).

    Raises:
        TypeError: meta or a state holding a value that would need pickle (the message names where).
        ValueError: model_state not a dict of str -> tensor, or a tensor safetensors cannot store.
        OSError: from the file system.
    """
    weights, sidecar = checkpoint_paths(path)
    if not isinstance(model_state, dict):
        raise ValueError(f"model_state: expected a dict of str -> Tensor, got {type(model_state).__name__}")
    for key, value in model_state.items():
        if not (isinstance(key, str) and isinstance(value, Tensor)):
            raise ValueError(
                f"model_state: expected a dict of str -> Tensor, got {type(key).__name__} "
                f"{key!r} -> {type(value).__name__}"
            )
    if not isinstance(meta, dict):
        raise ValueError(f"meta: expected a dict, got {type(meta).__name__}")
    extra_tensors = {} if extra_tensors is None else extra_tensors
    if not isinstance(extra_tensors, dict):
        raise ValueError(f"extra_tensors: expected a dict of str -> Tensor or None, got {type(extra_tensors).__name__}")
    if isinstance(rng, bool):
        rng_state = capture_rng_state() if rng else None
    elif isinstance(rng, dict):
        rng_state = rng
    else:
        raise ValueError(f"rng: expected True, False or a dict from capture_rng_state(), got {type(rng).__name__}")

    tensors: dict[str, Tensor] = {f"model.{key}": value for key, value in model_state.items()}
    body = {
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "rnnkit_version": _rnnkit_version(),
        "torch_version": torch.__version__,
        "meta": encode(meta, "meta", None, "meta"),
        "model": list(model_state),
        "extra": encode(extra_tensors, "extra", tensors, "extra_tensors"),
        "optimizer": encode(optimizer_state, "optim", tensors, "optimizer_state"),
        "scheduler": encode(scheduler_state, "sched", tensors, "scheduler_state"),
        "rng": encode(rng_state, "rng", tensors, "rng"),
    }
    weights.parent.mkdir(parents=True, exist_ok=True)
    doc = write_container(weights, tensors, body)
    atomic_write(sidecar, _sidecar_text(doc, weights).encode("utf-8"))
    return weights


def load_checkpoint(path: str | os.PathLike, map_location: str | torch.device = "cpu") -> Checkpoint:
    """Load and verify a checkpoint (never unpickles).

    Args:
        path: NAME, NAME.safetensors or NAME.json (the sidecar is not read, only used to find the file);
            an existing file with another suffix is read as is.
        map_location: device for model_state and extra_tensors ("cpu", "cuda", "cuda:1", a torch.device).

    Returns:
        A Checkpoint. Optimiser/scheduler/RNG tensors are on the CPU (see the module docstring). CPU
        tensors are writable and own their memory (nothing stays tied to the file).

    Raises:
        CheckpointError: missing, truncated, corrupted, not an rnnkit checkpoint, other format version.
        ValueError: an unknown or unavailable map_location.
    """
    weights = _existing_weights(path)
    device = _device(map_location)
    doc, tensors = read_container(weights)
    try:
        model_state = {key: tensors[f"model.{key}"] for key in doc["model"]}
        extra_tensors = decode(doc["extra"], tensors)
        meta = decode(doc["meta"], {})
        optimizer_state = decode(doc["optimizer"], tensors)
        scheduler_state = decode(doc["scheduler"], tensors)
        rng_state = decode(doc["rng"], tensors)
    except (KeyError, TypeError, ValueError) as e:
        raise _malformed(weights, e) from None
    if device.type != "cpu":
        moved: dict[int, Tensor] = {}  # by id, so tied weights stay one tensor on the device
        for part in (model_state, extra_tensors):
            for key, value in part.items():
                if isinstance(value, Tensor):
                    if id(value) not in moved:
                        moved[id(value)] = value.to(device)
                    part[key] = moved[id(value)]
    return Checkpoint(
        model_state=model_state,
        meta=meta,
        extra_tensors=extra_tensors,
        optimizer_state=optimizer_state,
        scheduler_state=scheduler_state,
        rng_state=rng_state,
        path=weights,
        created=doc.get("created", ""),
        rnnkit_version=doc.get("rnnkit_version", ""),
    )


def read_meta(path: str | os.PathLike) -> dict:
    """The user meta of a checkpoint, reading only the file's header (no tensor data).

    The header's own checksum is verified; the tensor data is not (load_checkpoint does that).

    Raises:
        CheckpointError: as load_checkpoint, for the header.
    """
    weights = _existing_weights(path)
    doc = read_document(weights)
    try:
        return decode(doc["meta"], {})
    except (KeyError, TypeError, ValueError) as e:
        raise _malformed(weights, e) from None


def read_header(path: str | os.PathLike) -> Header:
    """The user meta and the model tensors' dtypes and shapes, from the file's header only (its
    checksum verified, the tensor data neither read nor verified): what a loader checks before it
    builds or reads anything big.

    Raises:
        CheckpointError: as read_meta; a model key without a tensor.
    """
    weights = _existing_weights(path)
    doc, entries = read_layout(weights)
    try:
        meta = decode(doc["meta"], {})
        keys = doc["model"]
        if not (isinstance(keys, list) and all(isinstance(k, str) for k in keys)):
            raise ValueError(f"expected a list of model keys, got {keys!r:.80}")
        model = {key: entries[f"model.{key}"] for key in keys}
    except (KeyError, TypeError, ValueError) as e:
        raise _malformed(weights, e) from None
    return Header(meta, model, weights)


def _malformed(weights: Path, e: Exception) -> CheckpointError:
    return CheckpointError(
        f"checkpoint: {weights}: its rnnkit document is malformed ({type(e).__name__}: "
        f"{' '.join(str(e).split())[:200]}); expected a complete rnnkit checkpoint"
    )


def _existing_weights(path: str | os.PathLike) -> Path:
    p = Path(path)
    if p.suffix not in (WEIGHTS_SUFFIX, SIDECAR_SUFFIX) and p.is_file():
        return p  # e.g. a checkpoint renamed to run.ckpt
    return checkpoint_paths(p)[0]


def _device(map_location: str | torch.device) -> torch.device:
    try:
        device = torch.device(map_location)
    except (RuntimeError, TypeError):
        raise ValueError(f"map_location: expected a device such as 'cpu' or 'cuda:0', got {map_location!r}") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(
            f"map_location: expected an available device, got {str(device)!r} (CUDA is not available here; use 'cpu')"
        )
    return device


def _sidecar_text(doc: dict, weights: Path) -> str:
    note = (
        f"A readable copy of the header of {weights.name}, written after it. rnnkit never reads this "
        f"file: {weights.name} alone is the checkpoint."
    )
    return json.dumps({"_note": note, **doc}, indent=2, ensure_ascii=False) + "\n"


def _rnnkit_version() -> str:
    try:
        return _metadata.version("rnnkit")
    except _metadata.PackageNotFoundError:  # running from a source tree that was never installed
        return "unknown"
