"""Attention heatmaps: which source tokens each output token read (rows: output, columns: source).

Each PNG is written atomically (``rnnkit.checkpoint.atomic``), never through a symlink.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from rnnkit.checkpoint.atomic import write_figure


def plot_attention(weights, source: Sequence[str], output: Sequence[str], path, title: str = "") -> Path:
    """weights (T, S): step t's attention over the S source tokens; ``output`` the T tokens written
    (``<eos>`` as the last when the sentence ended)."""
    w = np.asarray(weights, dtype=np.float64)
    if w.ndim != 2 or w.shape != (len(output), len(source)):
        raise ValueError(
            f"attention plot: expected weights of shape ({len(output)}, {len(source)}) (output x source tokens), "
            f"got {tuple(w.shape)}"
        )
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    S, T = len(source), len(output)
    fig, ax = plt.subplots(figsize=(max(3.0, 0.4 * S + 1.5), max(2.5, 0.35 * T + 1.5)))
    try:
        image = ax.imshow(w, cmap="Greys", vmin=0.0, vmax=1.0, interpolation="nearest", aspect="auto")
        fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04, label="attention")
        ax.set_xticks(range(S))
        ax.set_xticklabels(source, rotation=60, ha="right", rotation_mode="anchor")
        ax.set_yticks(range(T))
        ax.set_yticklabels(output)
        ax.set_xlabel("source")
        ax.set_ylabel("output")
        if title:
            ax.set_title(title, fontsize=9)
        fig.tight_layout()
        return write_figure(fig, Path(path), dpi=100)
    finally:
        plt.close(fig)
