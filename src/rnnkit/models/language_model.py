"""A recurrent language model: predict token t+1 from tokens 1..t (char-rnn, Zaremba et al.).

    tokens (B, T) -> embedding (or one-hot; optional embedding dropout: whole words) -> dropout
    -> stacked RNN/LSTM/GRU (dropout between layers) -> dropout -> linear -> logits (B, T, V);
    loss = cross-entropy per token (nats)

The contract every rnnkit model keeps (``rnnkit.models.batch``): ``forward(TokenBatch, state) ->
ModelOutput(logits, loss, state)``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import ClassVar

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from rnnkit.config import is_real
from rnnkit.layers import Dropout, Recurrent, RecurrentConfig
from rnnkit.models.batch import ModelOutput, TokenBatch
from rnnkit.models.rnn_settings import RNN_DERIVED, ModelSettings, check_dropout, check_model_fits, derive


@dataclass
class LanguageModelConfig(ModelSettings):
    """Architecture of a language model. ``vocab_size`` comes from the data; the recurrent stack's
    settings are ``rnn`` (TOML ``[model.rnn]``), its input size and dropout follow from the rest."""

    FLAT_ALIASES: ClassVar = ("rnn",)  # [model] hidden_size = ... still means [model.rnn] hidden_size
    DERIVED: ClassVar = {"rnn": RNN_DERIVED}

    vocab_size: int = 0
    embedding_size: int = 64  # 0: one-hot inputs (the textbook "hello" example)
    dropout: float = 0.0  # on the non-recurrent connections: input, between layers, before the head
    embedding_dropout: float = 0.0  # whole words: a word type's embedding dropped everywhere in a batch
    tie_weights: bool = False  # share the embedding and output matrices (needs embedding = hidden size)
    init_scale: float = 0.0  # > 0: every parameter ~ U(-init_scale, init_scale) (Zaremba et al. 2014)
    rnn: RecurrentConfig = field(default_factory=lambda: RecurrentConfig(hidden_size=512, num_layers=2))

    def validate(self) -> LanguageModelConfig:
        V = self.vocab_size
        if isinstance(V, bool) or not isinstance(V, int) or V < 1:
            raise ValueError(f"model: expected vocab_size to be a positive integer, got {V!r}")
        if isinstance(self.embedding_size, bool) or not isinstance(self.embedding_size, int) or self.embedding_size < 0:
            raise ValueError(f"model: expected embedding_size >= 0 (0 = one-hot), got {self.embedding_size!r}")
        check_dropout(self.dropout)
        if not is_real(self.embedding_dropout) or not 0.0 <= self.embedding_dropout < 1.0:
            raise ValueError(f"model: expected embedding_dropout in [0, 1), got {self.embedding_dropout!r}")
        if self.embedding_dropout and not self.embedding_size:
            raise ValueError(
                "model: expected embedding_size > 0 with embedding_dropout (one-hot inputs have no embedding)"
            )
        if not is_real(self.init_scale) or self.init_scale < 0:
            raise ValueError(f"model: expected init_scale >= 0, got {self.init_scale!r}")
        if self.tie_weights and self.embedding_size != (self.rnn.proj_size or self.rnn.hidden_size):
            size = "proj_size" if self.rnn.proj_size else "hidden_size"
            raise ValueError(
                f"model: tie_weights needs embedding_size == {size}, got embedding_size="
                f"{self.embedding_size} and {size}={self.rnn.proj_size or self.rnn.hidden_size}"
            )
        self.rnn = derive(self.rnn, self.embedding_size or self.vocab_size, self.dropout)
        E, h_size = self.embedding_size, self.rnn.proj_size or self.rnn.hidden_size
        got = f"vocab_size={V}, embedding_size={E}, hidden_size={h_size}"
        check_model_fits(self.rnn, V * E + (h_size + 1) * V, got)
        return self


class LanguageModel(nn.Module):
    """Shapes: inputs, targets (B, T) integer ids in [0, V); logits (B, T, V); state as the
    recurrent layer's (h (L, B, H), or (h, c) for LSTM). ``loss`` is the mean cross-entropy per
    target token in nats (sum over steps / number of tokens)."""

    kind = "language_model"
    batch_type = TokenBatch

    def __init__(self, config: LanguageModelConfig):
        super().__init__()
        self.config = config.validate()
        V, E = config.vocab_size, config.embedding_size
        self.embedding = nn.Embedding(V, E) if E else None
        self.rnn = Recurrent(config.rnn)
        self.drop = Dropout(config.dropout, locked=config.rnn.variational)  # locked: one mask per sequence
        self.head = nn.Linear(self.rnn.output_size, V)  # H, or P with a projection LSTM
        if config.tie_weights:
            self.head.weight = self.embedding.weight  # one parameter, two uses (Press & Wolf 2017)
        if config.init_scale > 0:
            for p in self.parameters():
                nn.init.uniform_(p, -config.init_scale, config.init_scale)

    def config_dict(self) -> dict:
        return self.config.to_dict()

    def _embed(self, tokens: Tensor) -> Tensor:
        if self.embedding is None:
            return F.one_hot(tokens.long(), self.config.vocab_size).to(self.head.weight.dtype)  # (..., V)
        p = self.config.embedding_dropout
        if not (p and self.training):
            return self.embedding(tokens)  # (...) -> (..., E)
        # Embedding dropout (Gal & Ghahramani 2016): each word TYPE is dropped with probability p
        # for the whole batch, every occurrence alike, the kept rows scaled by 1/(1-p):
        # e(w) = E[w] * m_w / (1 - p), m ~ Bernoulli(1 - p) per row of E, drawn per forward.
        keep = torch.rand(self.config.vocab_size, 1, device=tokens.device) >= p  # (V, 1)
        return F.embedding(tokens, self.embedding.weight * (keep.to(self.embedding.weight.dtype) / (1 - p)))

    def forward(self, batch: TokenBatch, state=None) -> ModelOutput:
        inputs, targets = batch.inputs, batch.targets
        self._check_tokens(inputs, "inputs")
        x = self.drop(self._embed(inputs.t()))  # (B, T) -> (T, B, E): time-major for the RNN
        out, state = self.rnn(x, state)  # (T, B, H)
        logits_tb = self.head(self.drop(out))  # (T, B, V)
        loss = None
        if targets is not None:
            self._check_tokens(targets, "targets")
            if targets.shape != inputs.shape:
                raise ValueError(
                    f"targets: expected shape {tuple(inputs.shape)} (the inputs'), got {tuple(targets.shape)}"
                )
            # The loss in time-major order: the same mean, without copying the (B, T, V) logits
            # into batch-major order (and back in the backward pass), ~5% of a PTB-size step.
            loss = F.cross_entropy(logits_tb.view(-1, self.config.vocab_size), targets.t().reshape(-1).long())
        return ModelOutput(logits_tb.transpose(0, 1), loss, state)  # (B, T, V), a view

    def step(self, tokens: Tensor, state=None) -> tuple[Tensor, object]:
        """One token per sequence: tokens (B,) -> (logits (B, V), state). For generation: the
        state carries everything, so a prefix is never re-run."""
        self._check_tokens(tokens, "tokens", rank=1)
        h, state = self.rnn.step(self.drop(self._embed(tokens)), state)  # (B, E) -> (B, H)
        return self.head(self.drop(h)), state

    def _check_tokens(self, tokens, what: str, rank: int = 2) -> None:
        if not isinstance(tokens, Tensor) or tokens.dtype not in (torch.long, torch.int):
            got = tokens.dtype if isinstance(tokens, Tensor) else type(tokens).__name__
            raise ValueError(f"{what}: expected an integer tensor of token ids, got {got}")
        if tokens.dim() != rank:
            layout = "(B, T)" if rank == 2 else "(B,)"
            raise ValueError(f"{what}: expected a {rank}-D tensor {layout}, got shape {tuple(tokens.shape)}")
        if tokens.numel():
            low, high = int(tokens.min()), int(tokens.max())
            if low < 0 or high >= self.config.vocab_size:
                raise ValueError(
                    f"{what}: expected token ids in [0, {self.config.vocab_size}), got values in [{low}, {high}]"
                )


def nats_to_bits(nats: float) -> float:
    return nats / math.log(2)
