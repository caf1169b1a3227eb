"""``rnnkit.load(path)``: a checkpoint (or run directory) to a ready-to-use model."""

from __future__ import annotations

from pathlib import Path

import torch

from rnnkit.checkpoint import CheckpointError, load_checkpoint
from rnnkit.data import vocab_from_dict
from rnnkit.infer.generate import LoadedLanguageModel
from rnnkit.models import build_model


def resolve_checkpoint(path) -> Path:
    """A run directory means its best checkpoint (else its latest); a file path is used as is."""
    p = Path(path)
    if p.is_dir():
        for name in ("best.safetensors", "latest.safetensors"):
            if (p / name).exists():
                return p / name
        raise CheckpointError(
            f"checkpoint: {p} is a directory without best.safetensors or latest.safetensors; "
            "expected a run directory or a checkpoint file"
        )
    return p


def load(path, device: str | torch.device = "cpu") -> LoadedLanguageModel:
    """Load a language-model checkpoint for inference (no code from the file is ever run)."""
    device = torch.device(device)
    ckpt = load_checkpoint(resolve_checkpoint(path), map_location=device)
    meta = ckpt.meta
    model_meta = meta.get("model")
    if not isinstance(model_meta, dict) or "kind" not in model_meta:
        raise CheckpointError(f"checkpoint: {ckpt.path} has no model description; expected one written by rnnkit train")
    if model_meta["kind"] != "language_model":
        raise CheckpointError(f"checkpoint: {ckpt.path} holds a {model_meta['kind']} model; expected a language_model")
    model = build_model(model_meta["kind"], model_meta["config"]).to(device)
    model.load_state_dict(ckpt.model_state)
    model.eval()
    return LoadedLanguageModel(model, vocab_from_dict(meta["vocab"]), meta, device)
