"""A loaded model in one short line: what its ``repr`` shows instead of the whole metadata.

    LoadedLanguageModel(2x256 lstm, 65 chars, step 3000, best val_loss 1.5200)
    LoadedClassifier(1x128 bidirectional gru, 18 labels, 57 chars, step 900, best val_acc 0.8110)
    LoadedTagger(2x256 bidirectional lstm, 17 tags, 19674 words + chars, step 4000, best val_acc 0.9401)

The recurrent stack comes from the model's config, the step and best monitored value from the
trainer's entries of the checkpoint's metadata (``rnnkit.tasks.meta``; none: step 0).
"""

from __future__ import annotations

import dataclasses
import math


def rnn_summary(rnn: dict) -> str:
    """``2x256 lstm``, ``1x128 bidirectional gru``, ``2x1024 lstm proj 256`` from a model config's ``rnn``."""
    both = "bidirectional " if rnn.get("bidirectional") else ""
    text = f"{rnn['num_layers']}x{rnn['hidden_size']} {both}{rnn['cell']}"
    return f"{text} proj {rnn['proj_size']}" if rnn.get("proj_size") else text


def progress_summary(meta: dict) -> str:
    """``step 3000, best val_loss 1.5200``; no best before the first evaluation."""
    text = f"step {meta.get('step', 0)}"
    best = meta.get("best_score")
    if isinstance(best, (int, float)) and math.isfinite(best):
        text += f", best {meta.get('monitor', 'val_loss')} {best:.4f}"
    return text


def loaded_repr(loaded, *what: str) -> str:
    """``ClassName(<rnn>, <what...>, <progress>)`` for a loaded model (``model``, ``meta``)."""
    parts = [rnn_summary(dataclasses.asdict(loaded.model.config.rnn)), *what, progress_summary(loaded.meta)]
    return f"{type(loaded).__name__}({', '.join(parts)})"
