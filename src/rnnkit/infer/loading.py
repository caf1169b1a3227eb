"""``rnnkit.load(path)``: a checkpoint (or run directory) to a ready-to-use model.

What comes back depends on the model the checkpoint holds: a LoadedLanguageModel (generate,
evaluate), a LoadedClassifier (predict, top, evaluate) or a LoadedTagger (tag, evaluate).
``expect`` turns "this command needs that kind of model" into a one-line error."""

from __future__ import annotations

from pathlib import Path

import torch

from rnnkit.checkpoint import CheckpointError, load_checkpoint
from rnnkit.data import vocab_from_dict
from rnnkit.data.vocab import TokenVocab
from rnnkit.infer.generate import LoadedLanguageModel
from rnnkit.infer.labelers import LoadedClassifier, LoadedTagger
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


#: model kind -> what the user trains to get one (for "expected" errors)
TRAINED_BY = {
    "language_model": "rnnkit train",
    "sequence_classifier": "rnnkit train classify",
    "sequence_tagger": "rnnkit train tag",
}


def load(path, device: str | torch.device = "cpu", expect: str | None = None):
    """Load a checkpoint for inference (no code from the file is ever run).

    Args:
        expect: a model kind (e.g. "sequence_classifier"); a checkpoint of another kind is an error.
    """
    device = torch.device(device)
    ckpt = load_checkpoint(resolve_checkpoint(path), map_location=device)
    meta = ckpt.meta
    model_meta = meta.get("model")
    if not isinstance(model_meta, dict) or "kind" not in model_meta:
        raise CheckpointError(f"checkpoint: {ckpt.path} has no model description; expected one written by rnnkit train")
    kind = model_meta["kind"]
    if expect is not None and kind != expect:
        raise CheckpointError(
            f"checkpoint: {ckpt.path} holds a {kind} model (from {TRAINED_BY.get(kind, 'rnnkit')}); expected a "
            f"{expect} (trained with {TRAINED_BY.get(expect, 'rnnkit')})"
        )
    model = build_model(kind, model_meta["config"]).to(device)
    model.load_state_dict(ckpt.model_state)
    model.eval()
    if kind == "sequence_classifier":
        return LoadedClassifier(model, TokenVocab.from_dict(meta["vocab"]), list(meta["labels"]), meta, device)
    if kind == "sequence_tagger":
        chars = TokenVocab.from_dict(meta["chars"]) if model.uses_chars else None
        return LoadedTagger(model, TokenVocab.from_dict(meta["vocab"]), chars, list(meta["tags"]), meta, device)
    return LoadedLanguageModel(model, vocab_from_dict(meta["vocab"]), meta, device)
