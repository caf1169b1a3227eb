"""The recurrent layer: any cell, stacked, bidirectional, variable length, three backends.

    layer = Recurrent(RecurrentConfig("lstm", input_size=64, hidden_size=128, num_layers=2))
    output, state = layer(x)                       # x (T, B, D) -> output (T, B, dirs*H)
    output, state = layer(x, state, lengths=lens)  # carry state; padded batch
    h_t, state = layer.step(x_t, state)            # one step, for generation and decoders

Backends (``backend=``):
    "fused"     our hand-derived BPTT (``rnnkit.layers.fused``), one autograd node per layer.
    "autograd"  the equations as plain ops per step; the readable reference.
    "native"    torch.nn's kernels (cuDNN / oneDNN) on these same parameters.
    "auto"      (default) the fastest of these for the cell and device, as measured in
                benchmarks/RESULTS.md.
Every call's backend, the single-step API's included, is decided by ``rnnkit.layers.backend.resolve``.

The parameters are the ones the cell declares (``Cell.parameters``), named ``{kind}_l{layer}`` and
``{kind}_l{layer}_reverse`` as torch.nn names them. ``observe`` lets an observer (the diagnostics'
tracer) see every step of every layer through the reference loop.
"""

from __future__ import annotations

import torch
from torch import nn

from rnnkit.layers.backend import BACKENDS
from rnnkit.layers.config import RecurrentConfig
from rnnkit.layers.stack import Stack

__all__ = ["BACKENDS", "GRU", "LSTM", "RNN", "Recurrent", "RecurrentConfig"]


class Recurrent(Stack, nn.Module):
    """A stack of recurrent layers. Parameters carry torch.nn's names (weight_ih_l0, ...,
    weight_hh_l1_reverse), so ``state_dict``s are interchangeable with torch.nn's. Shapes and the
    forward's contract: ``rnnkit.layers.stack.Stack``."""

    def __init__(self, config: RecurrentConfig | None = None, **overrides):
        super().__init__()
        if config is None:
            config = RecurrentConfig(**overrides)
        elif overrides:
            config = RecurrentConfig(**{**config.__dict__, **overrides})
        self.setup(config)
        for layer in range(config.num_layers):
            for names in self._weight_names[layer]:
                for name, p in zip(names, self.cell.parameters(self.layer_input_size(layer), config.hidden_size)):
                    if config.bias or not p.bias:
                        self.register_parameter(name, nn.Parameter(torch.empty(p.shape)))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        for layer in range(self.config.num_layers):
            for direction in range(self.num_directions):
                self.cell.reset_(
                    self.layer_weights(layer, direction),
                    recurrent_init=self.config.recurrent_init,
                    forget_bias=self.config.forget_bias,
                )

    @property
    def hidden_size(self) -> int:
        return self.config.hidden_size

    def forward(self, x, state=None, lengths=None):
        return self.run(x, state, lengths)

    def extra_repr(self) -> str:
        c = self.config
        return (
            f"{c.cell}, {c.input_size}, {c.hidden_size}, num_layers={c.num_layers}, "
            f"bidirectional={c.bidirectional}, backend={self.resolved_backend()!r}"
        )


def LSTM(input_size: int, hidden_size: int, **kwargs) -> Recurrent:
    return Recurrent(RecurrentConfig("lstm", input_size, hidden_size, **kwargs))


def GRU(input_size: int, hidden_size: int, **kwargs) -> Recurrent:
    return Recurrent(RecurrentConfig("gru", input_size, hidden_size, **kwargs))


def RNN(input_size: int, hidden_size: int, **kwargs) -> Recurrent:
    return Recurrent(RecurrentConfig("rnn", input_size, hidden_size, **kwargs))
