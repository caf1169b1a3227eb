"""The model contract: one batch type per task in, one output type out, the model owning its loss.

    model(batch, state=None) -> ModelOutput(out, loss, state)

    TokenBatch     language model: inputs (B, T) token ids, targets (B, T) the next tokens
    SequenceBatch  classifier: inputs (B, T) ids or (B, T, D) features, targets (B,), lengths (B,),
                   class_weights (C,) (weigh each class's loss; training only)
    TaggedBatch    tagger: inputs (B, T) word ids, targets (B, T) tag ids (-100 at padding),
                   lengths (B,), chars (B, T, W) and char_lengths (B, T) (character features)
    TranslationBatch translator: inputs (B, S) source ids, lengths (B,), targets (B, T) target ids
                   ending in <eos> (IGNORE = -100 past each end)

Every batch has ``inputs`` and ``targets`` (None: no loss), so generic code (the diagnostics)
builds one as ``model.batch_type(inputs, targets)``. ``out`` is the model's predictions (logits or
values), ``loss`` the mean loss over the batch's targets (None without targets), ``state`` the
recurrent state after the batch (carried by a language model from window to window).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

from torch import Tensor

IGNORE = -100  # the target of a padding position (torch's cross-entropy ignore_index)


class ModelOutput(NamedTuple):
    out: Tensor  # predictions: (B, T, V) / (B, C) or (B,) / (B, T, C)
    loss: Tensor | None  # the mean loss over the targets; None without targets
    state: object  # the recurrent state after the batch


@dataclass
class TokenBatch:
    inputs: Tensor  # (B, T) token ids
    targets: Tensor | None = None  # (B, T) the next token of every input


@dataclass
class SequenceBatch:
    inputs: Tensor  # (B, T) token ids, or (B, T, D) features
    targets: Tensor | None = None  # (B,) class ids, or numbers for regression
    lengths: Tensor | None = None  # (B,) in any order, 1 <= len <= T; None: every sequence has T steps
    class_weights: Tensor | None = None  # (C,) weight of each class in the loss; None: all 1


@dataclass
class TaggedBatch:
    inputs: Tensor  # (B, T) word ids, 0 = padding
    targets: Tensor | None = None  # (B, T) tag ids, -100 at padding
    lengths: Tensor | None = None  # (B,) in any order, 1 <= len <= T
    chars: Tensor | None = None  # (B, T, W) character ids of every word (character features)
    char_lengths: Tensor | None = None  # (B, T) characters per word, 0 past a sentence's end


@dataclass
class TranslationBatch:
    inputs: Tensor  # (B, S) source ids, padding past each length
    targets: Tensor | None = None  # (B, T) target ids ending in <eos>, IGNORE past each sentence's end
    lengths: Tensor | None = None  # (B,) source lengths in any order, 1 <= len <= S; None: all S
