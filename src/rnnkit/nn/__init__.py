"""A drop-in for torch.nn's recurrent modules: change one import, get rnnkit's cells.

    from rnnkit import nn as rnn        # instead of torch.nn for the recurrent layers
    lstm = rnn.LSTM(10, 20, 2)          # torch.nn.LSTM's constructor, attributes, state_dict, repr
    output, (h_n, c_n) = lstm(x)        # torch.nn's forward; computed by rnnkit's backends

``RNN``, ``LSTM``, ``GRU`` (``rnnkit.nn.rnn``) and ``RNNCell``, ``LSTMCell``, ``GRUCell``
(``rnnkit.nn.cell``) subclass their torch.nn classes and keep their interface (torch 2.4 to 2.13);
rnnkit's options are keyword-only (``rnnkit.nn.options``: ``backend``, ``reset_after``,
``forget_bias``, ``recurrent_init``). They initialise as torch.nn does, so a swapped import trains
the same; ``rnnkit.layers`` and the models keep rnnkit's own defaults (orthogonal W_hh, forget bias 1).
The layers also take ``lengths=`` and have ``step`` and ``observe`` (the diagnostics trace them).
``from_torch(model)`` / ``to_torch(model)`` (``rnnkit.nn.convert``) swap a whole model's recurrent
modules, parameters kept.
"""

from rnnkit.nn.cell import GRUCell, LSTMCell, RNNCell
from rnnkit.nn.convert import from_torch, to_torch
from rnnkit.nn.options import Options
from rnnkit.nn.rnn import GRU, LSTM, RNN, DropIn

__all__ = ["GRU", "LSTM", "RNN", "DropIn", "GRUCell", "LSTMCell", "Options", "RNNCell", "from_torch", "to_torch"]
