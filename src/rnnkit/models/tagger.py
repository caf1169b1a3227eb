"""A synced many-to-many model: one tag per input token (part-of-speech tagging, chunking, NER).

    words (B, T) -> word embedding ----------------------------------\\
    chars (B, T, W) -> char embedding -> BiRNN over each word's chars -> [last fwd | last bwd]  (optional)
                                                                      -> concat -> dropout
        -> bidirectional RNN/LSTM/GRU stack -> dropout -> linear -> tag logits (B, T, C)

The character BiRNN (Ling et al. 2015; Lample et al. 2016; Plank et al. 2016) reads each word's
spelling, so a word never seen in training still gets a representation from its prefix,
suffix and capitalisation: that is where most of a tagger's errors on unseen words go away.

The loss is the cross-entropy over the real tokens only: the positions past each sentence's
length (targets ``-100``) count neither in the loss nor in its mean.
The contract of every rnnkit model (``rnnkit.models.batch``): ``forward(TaggedBatch, state) ->
ModelOutput(logits, loss, state)``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import ClassVar

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from rnnkit.layers import Dropout, Recurrent, RecurrentConfig
from rnnkit.models.batch import IGNORE, ModelOutput, TaggedBatch
from rnnkit.models.rnn_settings import RNN_DERIVED, ModelSettings, check_dropout, check_model_fits, derive


@dataclass
class SequenceTaggerConfig(ModelSettings):
    """Architecture of a sequence tagger; the recurrent stack is ``rnn`` (TOML ``[model.rnn]``).
    ``char_features`` adds the character BiRNN (one layer of the same cell, ``char_hidden_size``
    units per direction; then ``char_vocab_size`` must be set, >= 2); without it the tagger reads
    words only."""

    FLAT_ALIASES: ClassVar = ("rnn",)
    DERIVED: ClassVar = {"rnn": RNN_DERIVED}

    num_tags: int = 2
    vocab_size: int = 2
    embedding_size: int = 100
    char_features: bool = False
    char_vocab_size: int = 0
    char_embedding_size: int = 32
    char_hidden_size: int = 64
    dropout: float = 0.33  # on the token features, between layers, and before the head
    rnn: RecurrentConfig = field(
        default_factory=lambda: RecurrentConfig(hidden_size=128, num_layers=2, bidirectional=True)
    )

    def validate(self) -> SequenceTaggerConfig:
        for name, low in (
            ("num_tags", 2),
            ("vocab_size", 2),
            ("embedding_size", 1),
            ("char_vocab_size", 0),
            ("char_embedding_size", 1),
            ("char_hidden_size", 1),
        ):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise ValueError(f"model: expected {name} to be an integer >= {low}, got {value!r}")
        check_dropout(self.dropout)
        if self.char_features and self.char_vocab_size < 2:
            raise ValueError(f"model: expected char_vocab_size >= 2 with char_features, got {self.char_vocab_size!r}")
        features = self.embedding_size + (2 * self.char_hidden_size if self.char_features else 0)
        self.rnn = derive(self.rnn, features, self.dropout)
        V, E, C = self.vocab_size, self.embedding_size, self.char_vocab_size
        chars = C * self.char_embedding_size + self.char_rnn().parameter_count() if self.char_features else 0
        head = 2 * (self.rnn.proj_size or self.rnn.hidden_size) * (self.num_tags + 1)  # an upper bound
        got = f"vocab_size={V}, embedding_size={E}, num_tags={self.num_tags}"
        check_model_fits(self.rnn, V * E + chars + head, got)
        return self

    def char_rnn(self) -> RecurrentConfig:
        """The character BiRNN: the word stack's cell and options, one bidirectional layer, no dropout
        and no projection (its output size is ``2 * char_hidden_size``)."""
        one_layer = dataclasses.replace(
            self.rnn, hidden_size=self.char_hidden_size, num_layers=1, bidirectional=True, proj_size=0
        )
        return derive(one_layer, self.char_embedding_size, 0.0)


class SequenceTagger(nn.Module):
    """Shapes: words (B, T) token ids (0 = padding); lengths (B,) in any order, 1 <= len <= T;
    chars (B, T, W) character ids and char_lengths (B, T) (0 past a sentence's end), needed iff
    the model has character features; out: logits (B, T, C); targets (B, T) tag ids, -100 at padding."""

    kind = "sequence_tagger"
    batch_type = TaggedBatch

    def __init__(self, config: SequenceTaggerConfig):
        super().__init__()
        cfg = self.config = config.validate()
        self.embedding = nn.Embedding(cfg.vocab_size, cfg.embedding_size, padding_idx=0)
        self.char_embedding, self.char_rnn = None, None
        if cfg.char_features:
            self.char_embedding = nn.Embedding(cfg.char_vocab_size, cfg.char_embedding_size, padding_idx=0)
            self.char_rnn = Recurrent(cfg.char_rnn())
        self.rnn = Recurrent(cfg.rnn)
        self.drop = Dropout(cfg.dropout)
        self.head = nn.Linear(self.rnn.output_size, cfg.num_tags)

    def config_dict(self) -> dict:
        return self.config.to_dict()

    @property
    def uses_chars(self) -> bool:
        return self.char_rnn is not None

    def forward(self, batch: TaggedBatch, state=None) -> ModelOutput:
        words, lengths, chars, char_lengths = batch.inputs, batch.lengths, batch.chars, batch.char_lengths
        if not isinstance(words, Tensor) or words.dim() != 2 or words.dtype not in (torch.long, torch.int):
            got = f"{words.dtype} {tuple(words.shape)}" if isinstance(words, Tensor) else type(words).__name__
            raise ValueError(f"inputs: expected a 2-D integer tensor (B, T) of word ids, got {got}")
        B, T = words.shape
        x = self.embedding(words)  # (B, T) -> (B, T, E)
        if self.uses_chars:
            if chars is None or char_lengths is None:
                raise ValueError(
                    "chars: expected character ids and lengths for a model with character features, got None"
                )
            x = torch.cat([x, self._spell(chars, char_lengths)], dim=-1)  # (B, T, E + 2Hc)
        if lengths is not None:
            lengths = torch.as_tensor(lengths)
        out, state = self.rnn(self.drop(x).transpose(0, 1), state, lengths=lengths)  # (T, B, dirs*H)
        logits = self.head(self.drop(out)).transpose(0, 1)  # (T, B, C) -> (B, T, C)
        loss = None if batch.targets is None else self._loss(logits, batch.targets)
        return ModelOutput(logits, loss, state)

    def _spell(self, chars: Tensor, char_lengths: Tensor) -> Tensor:
        """Each real word's characters through the char BiRNN -> (B, T, 2Hc), zeros at padding.
        A spelling that occurs several times in the batch ("the", ",") is read once."""
        B, T, W = chars.shape
        real = char_lengths > 0  # (B, T)
        spelled, where = torch.unique(chars[real], dim=0, return_inverse=True)  # (U, W) distinct spellings; (N,)
        lengths = (spelled != 0).sum(1)  # (U,) characters are ids >= 2, padding 0
        c = self.char_embedding(spelled).transpose(0, 1)  # (U, W) -> (W, U, Ec)
        _, state = self.char_rnn(c, lengths=lengths)
        h_n = state[0] if isinstance(state, tuple) else state  # (2, U, Hc): forward, backward
        words = h_n.transpose(0, 1).reshape(h_n.shape[1], -1)  # (U, 2Hc)
        out = words.new_zeros(B, T, words.shape[-1])  # (B, T, 2Hc)
        out[real] = words[where]  # (N, 2Hc) back to every real word
        return out

    def _loss(self, logits: Tensor, targets) -> Tensor:
        if not isinstance(targets, Tensor) or targets.shape != logits.shape[:2]:
            got = tuple(targets.shape) if isinstance(targets, Tensor) else type(targets).__name__
            raise ValueError(f"targets: expected a tensor of shape {tuple(logits.shape[:2])}, got {got}")
        return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1).long(), ignore_index=IGNORE)
