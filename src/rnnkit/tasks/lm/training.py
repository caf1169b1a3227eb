"""Language-model training as the trainer sees it: truncated BPTT over contiguous streams.

The training text is cut into B parallel streams (``rnnkit.data.StreamBatcher``) consumed in
windows of T tokens. The hidden state is carried from window to window, detached (so gradients
stop at the window boundary), and reset to zero at the start of every epoch.

With the vocabulary (``vocab``), the task names its unit ("char" or "word": the throughput's) and
can ``sample``: what ``--sample-every`` shows mid-run.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import Tensor

from rnnkit.data import DataError
from rnnkit.layers import detach_state
from rnnkit.models import TokenBatch, evaluating

#: --sample-every's samples: symbols by vocabulary kind, and the temperature
SAMPLE_LENGTH = {"char": 200, "word": 50}
SAMPLE_TEMPERATURE = 0.8


class LanguageModelTask:
    """The trainer's ``Task`` for a language model: numbered windows, a loss, an evaluation (nats
    and bits per token) and its log line, and the carried state (saved in checkpoints so a resumed
    run continues exactly)."""

    loss_floor = 0.0  # no chance level worth guarding: the running mean alone decides

    def __init__(
        self,
        train_ids: np.ndarray,
        val_ids: np.ndarray | None,
        batch_size: int,
        seq_len: int,
        device: torch.device,
        vocab=None,
    ):
        from rnnkit.data import StreamBatcher

        self.batches = StreamBatcher(train_ids, batch_size, seq_len)
        self.val_ids = val_ids
        self.batch_size, self.seq_len, self.device = batch_size, seq_len, device
        self.state = None
        self.vocab = vocab
        self.unit = "tok" if vocab is None else ("word" if vocab.kind == "word" else "char")

    @property
    def batches_per_epoch(self) -> int:
        return len(self.batches)

    def train_loss(self, model, index: int, epoch: int = 0) -> tuple[Tensor, int]:
        """Loss on window ``index`` of the epoch; returns (mean loss, number of target tokens)."""
        if index == 0:
            self.state = None  # every epoch starts from the zero state
        x, y = self.batches.window(index)  # (B, T) each
        x, y = x.to(self.device, non_blocking=True), y.to(self.device, non_blocking=True)
        _, loss, state = model(TokenBatch(x, y), self.state)
        self.state = detach_state(state)
        return loss, y.numel()

    def evaluate(self, model) -> dict[str, float]:
        if self.val_ids is None or len(self.val_ids) < 2:
            return {}
        loss = stream_loss(model, self.val_ids, self.batch_size, self.seq_len, self.device)
        return {"val_loss": loss, "val_bpc": loss / math.log(2)}

    def describe(self, val: dict) -> str:
        loss = val["val_loss"]
        return (
            f"val loss {loss:.4f} nats ({val.get('val_bpc', 0):.3f} bits, perplexity {math.exp(min(loss, 700.0)):.2f})"
        )

    def sample(self, model, seed: int) -> str:
        """SAMPLE_LENGTH symbols at SAMPLE_TEMPERATURE from the current weights (no prime), drawn
        from a generator of its own seeded with ``seed``; the carried state and the model's mode
        are left as they were."""
        if self.vocab is None:
            raise ValueError("sample: expected the task to hold its vocabulary (LanguageModelTask(vocab=...))")
        from rnnkit.tasks.lm.loaded import LoadedLanguageModel  # loaded.py imports this module

        with evaluating(model):
            lm = LoadedLanguageModel(model, self.vocab, {}, self.device)
            length = SAMPLE_LENGTH["word" if lm.word_level else "char"]
            return lm.generate("", length=length, temperature=SAMPLE_TEMPERATURE, seed=seed)

    def state_tensors(self) -> dict[str, Tensor]:
        if self.state is None:
            return {}
        parts = self.state if isinstance(self.state, tuple) else (self.state,)
        return {f"carry.{i}": t for i, t in enumerate(parts)}

    def load_state_tensors(self, tensors: dict[str, Tensor]) -> None:
        parts = [tensors[f"carry.{i}"].to(self.device) for i in range(len(tensors))]
        self.state = None if not parts else (tuple(parts) if len(parts) > 1 else parts[0])


@torch.no_grad()
def stream_loss(model, ids: np.ndarray, batch_size: int, seq_len: int, device) -> float:
    """Mean cross-entropy (nats per token) of ``model`` over the contiguous stream ``ids``,
    carrying the hidden state across windows as in training. Every predicted token counts once."""
    from rnnkit.data import StreamBatcher

    batch_size = max(1, min(batch_size, (len(ids) - 1) // 2 or 1))
    try:
        batches = StreamBatcher(ids, batch_size, seq_len)
    except DataError:
        batches = StreamBatcher(ids, 1, seq_len)
    with evaluating(model):
        state, total, count = None, 0.0, 0
        for x, y in batches:
            _, loss, state = model(TokenBatch(x.to(device), y.to(device)), state)
            total += float(loss) * y.numel()
            count += y.numel()
    return total / count
