"""``rnnkit.nn.RNN``, ``LSTM``, ``GRU``: torch.nn's layers, computed by rnnkit.

Each is a subclass of its torch.nn class (so of ``nn.RNNBase``): the constructor, its checks, the
parameters and their names, ``_flat_weights``, ``all_weights``, ``flatten_parameters``, the
``state_dict``, pickling and ``repr`` are torch.nn's own, and ``isinstance(m, nn.LSTM)`` holds, so
tools that look for torch's RNNs (``torch.ao.quantization.quantize_dynamic``, export) treat them as
RNNs. ``forward`` keeps torch.nn's signature and semantics (``hx``, unbatched 2-D input,
PackedSequence in and out, torch's exception types) and runs rnnkit's stack
(``rnnkit.layers.stack.Stack``): the backends, ``lengths=``, ``step``, ``observe`` and the
diagnostics. The rnnkit options are keyword-only (``rnnkit.nn.options``).
"""

from __future__ import annotations

from torch import Tensor, nn
from torch.nn.utils.rnn import PackedSequence

from rnnkit.layers import RecurrentConfig, Stack
from rnnkit.nn.checks import check_input, check_rank, check_state, state_parts
from rnnkit.nn.options import Options

__all__ = ["GRU", "LSTM", "RNN"]

#: torch.nn's ``mode`` -> (rnnkit cell, nonlinearity)
_CELLS = {"RNN_TANH": ("rnn", "tanh"), "RNN_RELU": ("rnn", "relu"), "LSTM": ("lstm", "tanh"), "GRU": ("gru", "tanh")}
#: What ``Stack.setup`` derives from the attributes: rebuilt after unpickling, never pickled.
_DERIVED = ("config", "cell", "num_directions", "_state_sizes", "_weight_names", "_bias_cache", "_observer", "_synced")


class DropIn(Stack):
    """What the three layers share; the torch.nn class they also derive from provides the rest."""

    rnnkit_options: Options
    torch_dropout_scale = True  # kept values between layers are x / (1 - p), as torch.nn's

    def _begin(self, options: Options) -> None:
        """Before torch.nn's constructor, which calls ``reset_parameters`` (it reads the options)."""
        self.__dict__["rnnkit_options"] = options

    # ----- the configuration rnnkit's stack runs, from torch.nn's attributes -------------------
    def _key(self) -> tuple:
        return (self.mode, self.input_size, self.hidden_size, self.num_layers, self.bias, self.batch_first,
                self.dropout, self.bidirectional, self.proj_size)  # fmt: skip

    def _sync(self) -> None:
        """(Re)build the stack's configuration when an attribute it reads has changed (torch.nn lets
        a user set ``m.dropout`` or ``m.batch_first`` after construction)."""
        key = self._key()
        if self.__dict__.get("_synced") != key:
            cell, nonlinearity = _CELLS[self.mode]
            o = self.rnnkit_options
            config = RecurrentConfig(
                cell=cell, input_size=self.input_size, hidden_size=self.hidden_size, num_layers=self.num_layers,
                bias=self.bias, batch_first=self.batch_first, dropout=self.dropout,
                bidirectional=self.bidirectional, backend=o.backend, nonlinearity=nonlinearity,
                reset_after=o.reset_after, proj_size=self.proj_size, **o.init_kwargs(),
            )  # fmt: skip
            self.setup(config)
            self.__dict__["_synced"] = key

    def reset_parameters(self) -> None:
        """torch.nn's initialisation, or rnnkit's where asked for (``rnnkit.nn.options``)."""
        options = self.__dict__.get("rnnkit_options")
        if options is None or not options.rnnkit_init:
            super().reset_parameters()
            return
        self._sync()
        for layer in range(self.num_layers):
            for direction in range(self.num_directions):
                self.cell.reset_(self.layer_weights(layer, direction), **options.init_kwargs())

    # ----- forward ------------------------------------------------------------------------------
    def forward(self, input, hx=None, *, lengths=None):
        """torch.nn's forward: ``input`` (T, B, D) ((B, T, D) batch_first), (T, D) unbatched, or a
        PackedSequence; ``hx`` the initial state (zeros when None). Returns (output, h_n), h_n
        ``(h_n, c_n)`` for an LSTM. ``lengths`` (B,), rnnkit's: a padded batch's true lengths."""
        self._update_flat_weights()  # torch.nn's bookkeeping (functional_call swaps weights)
        self._sync()
        weight = self.layer_weights(0)[0]
        if isinstance(input, PackedSequence):
            check_rank("input", input.data, (2,), "(packed data: sum of lengths, D)")
            check_input(input.data, weight, self.input_size, "(packed data)")
            hx = self._initial(hx, int(input.batch_sizes[0]), input.data, batched=True)
            return self.run(input, hx, lengths)
        layout = "(B, T, D)" if self.batch_first else "(T, B, D)"
        check_rank("input", input, (2, 3), f"{layout}, or (T, D) unbatched")
        check_input(input, weight, self.input_size, layout)
        batched, batch_dim = input.dim() == 3, 0 if self.batch_first else 1
        shape = tuple(input.shape)
        if not batched:
            if lengths is not None:
                raise ValueError("lengths: expected None with an unbatched input (one sequence of T steps), got some")
            input = input.unsqueeze(batch_dim)
        T, B = input.shape[1 - batch_dim], input.shape[batch_dim]
        if T == 0:
            form = layout if batched else "(T, D)"
            raise RuntimeError(f"input: expected a sequence length T >= 1 {form}, got shape {shape}")
        hx = self._initial(hx, B, input, batched)
        output, h_n = self.run(input, hx, lengths)
        if batched:
            return output, h_n
        h_n = tuple(h.squeeze(1) for h in h_n) if isinstance(h_n, tuple) else h_n.squeeze(1)
        return output.squeeze(batch_dim), h_n

    def _initial(self, hx, B: int, like: Tensor, batched: bool):
        """The user's initial state checked as torch.nn checks it (batched form), or None."""
        if hx is None:
            return None
        pair = self.cell.has_cell_state
        parts = state_parts("hx", hx, pair)
        rank = 3 if batched else 2
        form = "a batched 3-D" if batched else "an unbatched 2-D"
        for name, h in zip(("h_0", "c_0") if pair else ("h_0",), parts):
            if not isinstance(h, Tensor) or h.dim() != rank:
                got = f"{h.dim()}-D" if isinstance(h, Tensor) else type(h).__name__
                raise RuntimeError(f"hx {name}: expected a {rank}-D tensor for {form} input, got {got}")
        if not batched:
            parts = tuple(h.unsqueeze(1) for h in parts)
        shapes = self._state_shapes(self.num_layers * self.num_directions, B)
        for name, h, shape in zip(("h_0", "c_0"), parts, shapes):
            check_state(f"hx {name}", h, shape, like, "(L*dirs, B, H)")
        return parts if pair else parts[0]

    # ----- torch.nn's bookkeeping ----------------------------------------------------------------
    def __getstate__(self):
        state = super().__getstate__()
        for name in _DERIVED:
            state.pop(name, None)
        return state

    def __setstate__(self, state):
        super().__setstate__(state)
        self._sync()

    def extra_repr(self) -> str:
        return super().extra_repr() + self.rnnkit_options.extra_repr()


class RNN(DropIn, nn.RNN):
    """torch.nn.RNN (Elman), computed by rnnkit: ``RNN(input_size, hidden_size, num_layers=1,
    nonlinearity='tanh', bias=True, batch_first=False, dropout=0.0, bidirectional=False, device=None,
    dtype=None, *, backend='auto', recurrent_init=None)``."""

    def __init__(self, *args, backend: str = "auto", recurrent_init: str | None = None, **kwargs):
        self._begin(Options(backend=backend, recurrent_init=recurrent_init))
        super().__init__(*args, **kwargs)
        self._sync()


class LSTM(DropIn, nn.LSTM):
    """torch.nn.LSTM (with ``proj_size``), computed by rnnkit: ``LSTM(input_size, hidden_size,
    num_layers=1, bias=True, batch_first=False, dropout=0.0, bidirectional=False, proj_size=0,
    device=None, dtype=None, *, backend='auto', forget_bias=None, recurrent_init=None)``."""

    def __init__(self, *args, backend: str = "auto", forget_bias=None, recurrent_init: str | None = None, **kwargs):
        self._begin(Options(backend=backend, forget_bias=forget_bias, recurrent_init=recurrent_init))
        super().__init__(*args, **kwargs)
        self._sync()


class GRU(DropIn, nn.GRU):
    """torch.nn.GRU, computed by rnnkit: ``GRU(input_size, hidden_size, num_layers=1, bias=True,
    batch_first=False, dropout=0.0, bidirectional=False, device=None, dtype=None, *, backend='auto',
    reset_after=True, recurrent_init=None)``."""

    def __init__(self, *args, backend: str = "auto", reset_after: bool = True, recurrent_init=None, **kwargs):
        self._begin(Options(backend=backend, reset_after=reset_after, recurrent_init=recurrent_init))
        super().__init__(*args, **kwargs)
        self._sync()
