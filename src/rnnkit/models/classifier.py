"""A many-to-one model: read a whole sequence, then classify it or predict one number.

    tokens (B, T) -> embedding       \\
                                      -> dropout -> RNN/LSTM/GRU stack (optionally bidirectional)
    features (B, T, D) ---------------/   -> pool over time -> dropout -> linear -> logits (B, C) or value (B,)

Pooling turns the per-step outputs into one vector per sequence:

    "last"  each sequence's final state (its state at its own length; for a bidirectional stack the
            forward direction's last state next to the backward direction's state after reading step 1)
    "mean"  the mean of the outputs over the valid steps
    "max"   the elementwise maximum of the outputs over the valid steps

Tasks: "classify" (``num_classes`` logits, cross-entropy) or "regress" (one output, mean squared error).
The contract of every rnnkit model (``rnnkit.models.batch``): ``forward(SequenceBatch, state) ->
ModelOutput(logits or values, loss, state)``; ``loss(out, targets, class_weights)`` is the one loss.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from rnnkit.layers import Dropout, Recurrent, RecurrentConfig
from rnnkit.models.batch import ModelOutput, SequenceBatch
from rnnkit.models.rnn_settings import RNN_DERIVED, ModelSettings, check_dropout, check_model_fits, derive

TASKS = ("classify", "regress")
POOLINGS = ("last", "mean", "max")


@dataclass
class SequenceClassifierConfig(ModelSettings):
    """Architecture of a sequence classifier or regressor; the recurrent stack is ``rnn``
    (TOML ``[model.rnn]``).

    Inputs are token ids when ``vocab_size`` > 0 (embedded to ``embedding_size``), otherwise
    continuous features of size ``input_size``; exactly one of the two is set.
    """

    FLAT_ALIASES: ClassVar = ("rnn",)
    DERIVED: ClassVar = {"rnn": RNN_DERIVED}

    task: str = "classify"
    num_classes: int = 2  # classify only; regress always has one output
    vocab_size: int = 0
    embedding_size: int = 64
    input_size: int = 0
    pooling: str = "last"
    dropout: float = 0.0  # on the inputs, between layers, and before the head
    rnn: RecurrentConfig = field(default_factory=lambda: RecurrentConfig(hidden_size=128, num_layers=1))

    def validate(self) -> SequenceClassifierConfig:
        if self.task not in TASKS:
            raise ValueError(f"model: expected task in {TASKS}, got {self.task!r}")
        if self.pooling not in POOLINGS:
            raise ValueError(f"model: expected pooling in {POOLINGS}, got {self.pooling!r}")
        for name in ("vocab_size", "input_size", "embedding_size"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"model: expected {name} to be an integer >= 0, got {value!r}")
        if (self.vocab_size > 0) == (self.input_size > 0):
            raise ValueError(
                "model: expected exactly one of vocab_size (token inputs) and input_size (feature inputs) "
                f"to be > 0, got vocab_size={self.vocab_size} and input_size={self.input_size}"
            )
        if self.vocab_size and self.embedding_size < 1:
            raise ValueError(f"model: expected embedding_size >= 1 with token inputs, got {self.embedding_size}")
        if self.task == "classify" and (
            isinstance(self.num_classes, bool) or not isinstance(self.num_classes, int) or self.num_classes < 2
        ):
            raise ValueError(f"model: expected num_classes >= 2 for classification, got {self.num_classes!r}")
        check_dropout(self.dropout)
        self.rnn = derive(self.rnn, self.embedding_size if self.vocab_size else self.input_size, self.dropout)
        V, E, H = self.vocab_size, self.embedding_size, self.rnn.hidden_size
        head = 2 * (self.rnn.proj_size or H) * (self.num_outputs + 1)  # an upper bound of the head
        check_model_fits(self.rnn, V * E + head, f"vocab_size={V}, embedding_size={E}, hidden_size={H}")
        return self

    @property
    def num_outputs(self) -> int:
        return self.num_classes if self.task == "classify" else 1


class SequenceClassifier(nn.Module):
    """Shapes: inputs (B, T) integer token ids or (B, T, D) features; lengths (B,) in any order,
    1 <= len <= T (None: every sequence has T steps); out: logits (B, C) for "classify", predictions
    (B,) for "regress"; targets (B,) class ids or numbers. ``loss`` is the batch mean (cross-entropy
    in nats, or squared error). ``state`` is the recurrent stack's initial / final state."""

    kind = "sequence_classifier"
    batch_type = SequenceBatch

    def __init__(self, config: SequenceClassifierConfig):
        super().__init__()
        self.config = config.validate()
        self.embedding = nn.Embedding(config.vocab_size, config.embedding_size) if config.vocab_size else None
        self.rnn = Recurrent(config.rnn)
        self.drop = Dropout(config.dropout)
        self.head = nn.Linear(self.rnn.output_size, config.num_outputs)

    def config_dict(self) -> dict:
        return self.config.to_dict()

    def forward(self, batch: SequenceBatch, state=None) -> ModelOutput:
        x = self._features(batch.inputs)  # (B, T, E or D)
        lengths, targets = batch.lengths, batch.targets
        if lengths is not None:
            lengths = torch.as_tensor(lengths)  # validated by the recurrent layer
        out, state = self.rnn(self.drop(x).transpose(0, 1), state, lengths=lengths)  # (T, B, dirs*H)
        pooled = self._pool(out, state, lengths)  # (B, dirs*H)
        out = self.head(self.drop(pooled))  # (B, C) or (B, 1)
        if self.config.task == "regress":
            out = out.squeeze(-1)  # (B, 1) -> (B,)
        loss = None if targets is None else self.loss(out, targets, batch.class_weights)
        return ModelOutput(out, loss, state)

    # ----- pieces -----------------------------------------------------------------------------
    def _features(self, inputs) -> Tensor:
        cfg = self.config
        if not isinstance(inputs, Tensor):
            raise ValueError(f"inputs: expected a tensor, got {type(inputs).__name__}")
        if self.embedding is not None:
            if inputs.dtype not in (torch.long, torch.int) or inputs.dim() != 2:
                raise ValueError(
                    f"inputs: expected a 2-D integer tensor (B, T) of token ids, got dtype {inputs.dtype} "
                    f"and shape {tuple(inputs.shape)}"
                )
            if inputs.numel():
                low, high = int(inputs.min()), int(inputs.max())
                if low < 0 or high >= cfg.vocab_size:
                    raise ValueError(
                        f"inputs: expected token ids in [0, {cfg.vocab_size}), got values in [{low}, {high}]"
                    )
            return self.embedding(inputs)  # (B, T) -> (B, T, E)
        if not inputs.dtype.is_floating_point or inputs.dim() != 3 or inputs.shape[-1] != cfg.input_size:
            raise ValueError(
                f"inputs: expected a floating-point tensor (B, T, D={cfg.input_size}), got dtype {inputs.dtype} "
                f"and shape {tuple(inputs.shape)}"
            )
        return inputs

    def _pool(self, out: Tensor, state, lengths: Tensor | None) -> Tensor:
        pooling, dirs = self.config.pooling, self.rnn.num_directions
        if pooling == "last":
            h_n = state[0] if isinstance(state, tuple) else state  # (L*dirs, B, H)
            top = h_n[-dirs:]  # the top layer's directions, (dirs, B, H)
            return top.transpose(0, 1).reshape(top.shape[1], -1)  # (B, dirs*H): [forward | backward]
        T = out.shape[0]
        if lengths is None:
            return out.mean(0) if pooling == "mean" else out.amax(0)
        lengths = lengths.to(out.device)
        if pooling == "mean":  # outputs are zero past each length already; divide by the true count
            return out.sum(0) / lengths[:, None].to(out.dtype)
        valid = (torch.arange(T, device=out.device)[:, None] < lengths[None, :]).unsqueeze(-1)  # (T, B, 1)
        return out.masked_fill(~valid, -torch.inf).amax(0)

    def loss(self, out: Tensor, targets, class_weights: Tensor | None = None) -> Tensor:
        """The mean loss of outputs ``out`` against ``targets``: cross-entropy in nats (each class
        weighted by ``class_weights`` (C,) if given), or the squared error for regression."""
        cfg, B = self.config, out.shape[0]
        if not isinstance(targets, Tensor) or targets.shape != (B,):
            got = tuple(targets.shape) if isinstance(targets, Tensor) else type(targets).__name__
            raise ValueError(f"targets: expected a tensor of shape ({B},), one target per sequence, got {got}")
        if cfg.task == "regress":
            if not targets.dtype.is_floating_point:
                raise ValueError(f"targets: expected floating-point numbers for regression, got dtype {targets.dtype}")
            return F.mse_loss(out, targets.to(out.dtype))
        if targets.dtype not in (torch.long, torch.int):
            raise ValueError(f"targets: expected integer class ids, got dtype {targets.dtype}")
        if targets.numel() and (int(targets.min()) < 0 or int(targets.max()) >= cfg.num_classes):
            raise ValueError(
                f"targets: expected class ids in [0, {cfg.num_classes}), got values in "
                f"[{int(targets.min())}, {int(targets.max())}]"
            )
        return F.cross_entropy(out, targets.long(), weight=class_weights)
