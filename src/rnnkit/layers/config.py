"""RecurrentConfig: everything that defines a recurrent stack, validated once."""

from __future__ import annotations

import math
from dataclasses import dataclass

from rnnkit.cells import CELL_TYPES, FORGET_BIAS, NONLINEARITIES, cell_for
from rnnkit.config import check_fits, is_real
from rnnkit.layers.backend import BACKENDS

#: float32 copies of every parameter while training: the weights, their gradients, Adam's two moments.
TRAINING_COPIES = 4


@dataclass
class RecurrentConfig:
    """Everything that defines a recurrent stack. Defaults follow torch.nn where it has one.

    The cell options (``nonlinearity``, ``reset_after``, ``forget_bias``, ``proj_size``,
    ``recurrent_max``) are read by
    the cells that declare them (``Cell.options``); the others ignore them."""

    cell: str = "lstm"
    input_size: int = 64
    hidden_size: int = 128
    num_layers: int = 1
    bias: bool = True
    batch_first: bool = False
    dropout: float = 0.0  # between layers, on each layer's output but the last
    bidirectional: bool = False
    backend: str = "auto"
    nonlinearity: str = "tanh"  # Elman only
    reset_after: bool = True  # GRU only; True = torch.nn/cuDNN form
    forget_bias: float = FORGET_BIAS  # LSTM only
    recurrent_init: str = "orthogonal"
    proj_size: int = 0  # LSTM only: h_t = W_hr (o_t * tanh(c_t)) of size P; 0 = no projection
    recurrent_max: float = 0.0  # IndRNN only: |u| clipped to this bound where it enters the step; 0 = none
    # Regularisers inside the recurrence (training only; rnnkit.layers.regularise):
    variational: bool = False  # dropout between layers with ONE mask per sequence (Gal & Ghahramani)
    recurrent_dropout: float = 0.0  # on h_{t-1} where it enters the recurrence, one mask per sequence
    weight_drop: float = 0.0  # DropConnect on W_hh, one mask per forward call (AWD-LSTM)
    zoneout: float = 0.0  # h_t keeps h_{t-1} per unit with this probability (Krueger et al.)
    zoneout_cell: float = 0.0  # the same on the LSTM's cell state c_t

    def __post_init__(self):
        if self.cell not in CELL_TYPES:
            raise ValueError(f"cell: expected one of {CELL_TYPES}, got {self.cell!r}")
        for name in ("input_size", "hidden_size", "num_layers"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name}: expected a positive integer, got {value!r}")
        if not is_real(self.dropout) or not 0.0 <= self.dropout <= 1.0:  # 1 as torch.nn: zeros between layers
            raise ValueError(f"dropout: expected a probability in [0, 1], got {self.dropout!r}")
        if self.backend not in BACKENDS:
            raise ValueError(f"backend: expected one of {BACKENDS}, got {self.backend!r}")
        if self.nonlinearity not in NONLINEARITIES:
            raise ValueError(f"nonlinearity: expected one of {NONLINEARITIES}, got {self.nonlinearity!r}")
        if not is_real(self.forget_bias):
            raise ValueError(f"forget_bias: expected a finite number (float32), got {self.forget_bias!r}")
        cell = cell_for(self)  # the cell validates the options it reads
        self._check_regularisers(cell)
        if self.backend == "native" and cell.native is None:
            raise ValueError(
                f"backend: expected 'auto', 'fused' or 'autograd' for {cell.without_native} "
                f"(torch.nn has no such {cell.torch_module or 'cell'}), got 'native'"
            )
        check_fits(
            4 * TRAINING_COPIES * self.parameter_count(),
            "rnn: parameters, gradients and optimiser state",
            f"input_size={self.input_size}, hidden_size={self.hidden_size}, num_layers={self.num_layers}"
            + (f", proj_size={self.proj_size}" if self.proj_size else ""),
        )

    def _check_regularisers(self, cell) -> None:
        if not isinstance(self.variational, bool):
            raise ValueError(f"variational: expected true or false, got {self.variational!r}")
        for name in ("recurrent_dropout", "weight_drop", "zoneout", "zoneout_cell"):
            value = getattr(self, name)
            if isinstance(value, bool) or not is_real(value) or not 0.0 <= value < 1.0:
                raise ValueError(f"{name}: expected a probability in [0, 1), got {value!r}")
        if cell.scan and (self.recurrent_dropout or self.weight_drop):
            name = "recurrent_dropout" if self.recurrent_dropout else "weight_drop"
            raise ValueError(
                f"{name}: expected 0 for cell {self.cell!r} (its gates do not read h_(t-1): "
                f"nothing recurrent to drop), got {getattr(self, name)!r}"
            )
        if self.zoneout_cell and not cell.has_cell_state:
            raise ValueError(
                f"zoneout_cell: expected 0 for cell {self.cell!r} (it has no cell state; zoneout "
                f"acts on h), got {self.zoneout_cell!r}"
            )
        per_step = [n for n in ("recurrent_dropout", "zoneout", "zoneout_cell") if getattr(self, n)]
        if per_step and self.backend not in ("auto", "autograd"):
            raise ValueError(
                f"{per_step[0]}: runs on the autograd backend only (it changes the recurrence inside "
                f"each step; 'auto' picks autograd for it), got backend {self.backend!r}"
            )

    @property
    def recurrent_regularised(self) -> bool:
        """Whether a regulariser acts inside each step (then the autograd backend runs the layer)."""
        return bool(self.recurrent_dropout or self.zoneout or self.zoneout_cell)

    def parameter_count(self) -> int:
        """How many numbers the stack's parameters hold (computed from the shapes; nothing allocated)."""
        cell, dirs = cell_for(self), 2 if self.bidirectional else 1
        h_size = self.proj_size or self.hidden_size

        def layer(D: int) -> int:
            params = [p for p in cell.parameters(D, self.hidden_size) if self.bias or not p.bias]
            return dirs * sum(math.prod(p.shape) for p in params)

        # layers 2..L all read the layer below's output: the same count each (no loop over L)
        return layer(self.input_size) + (self.num_layers - 1) * layer(h_size * dirs)

    def activation_count(self, batch: int, steps: int) -> int:
        """An estimate of the numbers one forward + backward pass over a (steps, batch) window keeps:
        the gates, h and c of every step of every layer-direction."""
        dirs = 2 if self.bidirectional else 1
        return batch * steps * self.num_layers * dirs * (cell_for(self).num_gates + 2) * self.hidden_size
