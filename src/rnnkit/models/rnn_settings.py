"""What every model config shares about its recurrent stack: one nested ``RecurrentConfig``.

A model config holds ``rnn: RecurrentConfig`` (TOML ``[model.rnn]``: cell, hidden_size, num_layers,
bidirectional, backend, nonlinearity, reset_after, forget_bias, bias, recurrent_init, ...), which
``RecurrentConfig`` validates. Three of its fields are not settings but follow from the model
(``RNN_DERIVED``): the input size (the embedding or feature size), the dropout between layers (the
model's one ``dropout``) and the time-major layout; ``derive`` fills them in.
"""

from __future__ import annotations

import dataclasses

from rnnkit.config import check_fits, is_real, override, to_dict
from rnnkit.layers import RecurrentConfig
from rnnkit.layers.config import TRAINING_COPIES

#: Fields of the nested RecurrentConfig that the model sets: refused in [model.rnn], not stored.
RNN_DERIVED = ("input_size", "dropout", "batch_first")


def derive(rnn: RecurrentConfig, input_size: int, dropout: float) -> RecurrentConfig:
    """``rnn`` with the fields a model derives: its input size, its dropout, time-major batches."""
    return dataclasses.replace(rnn, input_size=input_size, dropout=dropout, batch_first=False)


def check_dropout(dropout: float) -> None:
    if not is_real(dropout) or not 0.0 <= dropout < 1.0:
        raise ValueError(f"model: expected dropout in [0, 1), got {dropout!r}")


def check_model_fits(rnn: RecurrentConfig, other_parameters: int, got: str) -> None:
    """Refuse a model whose parameters (the stack's and ``other_parameters``: embeddings, head), with
    their gradients and optimiser state, cannot fit in memory, before anything is allocated."""
    total = rnn.parameter_count() + other_parameters
    check_fits(4 * TRAINING_COPIES * total, "model: parameters, gradients and optimiser state", got)


class ModelSettings:
    """A model config's dict form: ``from_dict`` (flat or nested recurrent keys, unknown keys an
    error) and ``to_dict`` (nested, derived fields left out), the form TOML and checkpoints use."""

    @classmethod
    def from_dict(cls, values: dict, where: str = "[model]"):
        return override(cls(), values, where)

    def to_dict(self) -> dict:
        return to_dict(self)
