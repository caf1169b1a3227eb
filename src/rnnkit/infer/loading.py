"""Which file a checkpoint path means (``rnnkit.load`` itself is ``rnnkit.tasks.load``)."""

from __future__ import annotations

from pathlib import Path

from rnnkit.checkpoint import CheckpointError


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
