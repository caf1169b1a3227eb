"""What every unit of a language model does along a text: states, gates and next-token predictions.

The model reads the text once (eval mode, from the zero state). At each position t, after reading
token t, we keep for every layer:

    h   the hidden state h_t (what the next layer and the head see)
    c   the LSTM cell state c_t
    i f g o  (LSTM) / r z n (GRU)   the gate activations of step t

and the model's top-k predictions for token t+1. A unit's activation along the text is what
``rnnkit visualize`` colours the text by, and what ``find_units`` correlates with text properties.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from rnnkit.diagnostics.trace import Tracer, find_recurrent
from rnnkit.models.evaluating import evaluating

#: How each signal's values are spread: "tanh" in (-1, 1), "sigmoid" in (0, 1), "free" unbounded.
SIGNAL_RANGES = {"h": "tanh", "c": "free", "i": "sigmoid", "f": "sigmoid", "g": "tanh", "o": "sigmoid"}
SIGNAL_RANGES.update({"r": "sigmoid", "z": "sigmoid", "n": "tanh"})

SIGNAL_NAMES = {
    "h": "hidden state h",
    "c": "cell state c",
    "i": "input gate i",
    "f": "forget gate f",
    "g": "candidate g",
    "o": "output gate o",
    "r": "reset gate r",
    "z": "update gate z",
    "n": "candidate n",
}


@dataclass
class TextActivations:
    """Shapes: N positions, L layers, H units, k predictions.

    pieces: the text of each position (a character; a word followed by its space for word vocabularies).
    signals: {name: float32 array (L, N, H)}; ranges: {name: "tanh" | "sigmoid" | "free"}.
    top_ids, top_probs: (N, k) the model's most likely next tokens after each position, and their
    probabilities; symbols: {id: text} for the ids in top_ids.
    """

    pieces: list[str]
    signals: dict[str, np.ndarray]
    ranges: dict[str, str]
    top_ids: np.ndarray
    top_probs: np.ndarray
    symbols: dict[int, str]
    cell: str

    @property
    def num_layers(self) -> int:
        return next(iter(self.signals.values())).shape[0]

    @property
    def hidden_size(self) -> int:
        return next(iter(self.signals.values())).shape[2]

    def unit(self, signal: str, layer: int, unit: int) -> np.ndarray:
        """(N,) the activation of one unit (``layer`` and ``unit`` 0-based)."""
        if signal not in self.signals:
            raise ValueError(f"signal: expected one of {sorted(self.signals)} for this {self.cell}, got {signal!r}")
        L, _, H = self.signals[signal].shape
        if not 0 <= layer < L:
            raise ValueError(f"layer: expected 1..{L}, got {layer + 1}")
        if not 0 <= unit < H:
            raise ValueError(f"unit: expected 0..{H - 1}, got {unit}")
        return self.signals[signal][layer, :, unit]


@torch.no_grad()
def text_activations(model, vocab, text: str, top_k: int = 5, unknown: str = "error") -> TextActivations:
    """Run a language model over ``text`` and record every unit (see the module docstring).

    Args:
        model: a ``LanguageModel`` (or any model mapping token ids (1, N) to logits (1, N, V) through
            one ``Recurrent`` stack).
        vocab: its vocabulary (``encode`` / ``decode``); a line-mode vocabulary's <bos> is read first.
        text: the text; symbols the vocabulary lacks raise, or are skipped with ``unknown="skip"``.
        top_k: how many next-token predictions to keep per position.

    Raises:
        ValueError: an empty text (after skipping), a vocabulary error (DataError).
    """
    ids = [int(i) for i in vocab.encode(text, unknown=unknown)]
    if not ids:
        raise ValueError("text: expected at least one symbol the model knows, got none")
    bos = getattr(vocab, "bos_id", None)
    lead = [bos] if bos is not None else []
    layer = find_recurrent(model)
    with evaluating(model):
        device = next(model.parameters()).device
        x = torch.tensor([lead + ids], dtype=torch.long, device=device)  # (1, N')
        with Tracer(layer, gates=True) as tracer:
            logits = model(model.batch_type(x))[0]  # (1, N', V)
    skip = len(lead)
    signals: dict[str, list[np.ndarray]] = {}
    for trace in tracer.traces:  # one per layer (a language model reads forwards only)
        parts = {"h": trace.h, **({"c": trace.c} if trace.c is not None else {}), **trace.gates}
        for name, values in parts.items():
            signals.setdefault(name, []).append(values[skip:, 0].float().cpu().numpy())  # (N, H)
    probs = torch.softmax(logits[0, skip:].float(), dim=-1)  # (N, V)
    top_probs, top_ids = probs.topk(min(top_k, probs.shape[-1]), dim=-1)  # (N, k)
    unique = sorted({int(i) for i in top_ids.flatten().tolist()})
    cell = layer.config.cell
    ranges = {name: SIGNAL_RANGES.get(name, "free") for name in signals}
    ranges["h"] = layer.cell.h_range
    return TextActivations(
        pieces=_pieces(vocab, ids),
        signals={name: np.stack(per_layer) for name, per_layer in signals.items()},  # (L, N, H)
        ranges=ranges,
        top_ids=top_ids.cpu().numpy(),
        top_probs=top_probs.cpu().numpy(),
        symbols={i: vocab.decode([i]) for i in unique},
        cell=cell,
    )


def _pieces(vocab, ids: list[int]) -> list[str]:
    """The text of each position. Characters as they are; words get the space decoding puts between them."""
    if getattr(vocab, "kind", "char") == "char":
        return [vocab.decode([i]) for i in ids]
    pieces = [vocab.decode([i]) for i in ids]
    return [p if p.endswith("\n") else p + " " for p in pieces]
