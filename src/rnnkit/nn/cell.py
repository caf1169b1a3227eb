"""``rnnkit.nn.RNNCell``, ``LSTMCell``, ``GRUCell``: torch.nn's cells, stepped by rnnkit.

Subclasses of torch.nn's cells (constructor, parameters ``weight_ih, weight_hh, bias_ih, bias_hh``,
``repr`` and ``state_dict`` are torch's). ``forward(input, hx=None)`` keeps torch's semantics
(input (B, D) or unbatched (D,), hx zeros when None, torch's exception types) and runs one step of
the rnnkit cell by the one-step backend rule (``rnnkit.layers.backend.resolve(..., step=x)``):
without autograd, the compiled whole-step kernel where it runs; with autograd, torch's cell kernels;
``backend="autograd"``: the cell's equations as plain ops.
"""

from __future__ import annotations

from torch import Tensor, nn

from rnnkit.cells import make_cell
from rnnkit.layers import one_step, resolve
from rnnkit.layers.backend import Route
from rnnkit.nn.checks import check_dtype_device, check_features, check_rank, check_state, state_parts
from rnnkit.nn.options import Options

__all__ = ["GRUCell", "LSTMCell", "RNNCell"]


class CellDropIn:
    """What the three cells share; the torch.nn cell class they also derive from provides the rest."""

    rnnkit_options: Options
    _rnnkit_name: str  # the rnnkit cell

    def _begin(self, options: Options) -> None:
        """Before torch.nn's constructor, which calls ``reset_parameters`` (it reads the options)."""
        self.__dict__["rnnkit_options"] = options

    def _cell(self):
        """The rnnkit cell for the current options (``nonlinearity`` may be changed on the module)."""
        nonlinearity = self.__dict__.get("nonlinearity", "tanh")  # RNNCell's attribute (a plain one)
        key = (nonlinearity, self.rnnkit_options.reset_after)
        cached = self.__dict__.get("_rnnkit_cell")
        if cached is None or cached[0] != key:
            try:
                cell = make_cell(self._rnnkit_name, nonlinearity=nonlinearity, reset_after=key[1])
            except ValueError as e:  # torch.nn accepts any nonlinearity string and fails at forward
                raise RuntimeError(str(e)) from None
            cached = self.__dict__["_rnnkit_cell"] = (key, cell)
        return cached[1]

    def _weights(self) -> tuple:
        """(W_ih, W_hh, b_ih, b_hh), biases None without bias. A parametrised or re-assigned weight
        lives outside ``_parameters``: read as an attribute then (slower), else from the dict."""
        p = self._parameters
        try:
            return (p["weight_ih"], p["weight_hh"], p["bias_ih"], p["bias_hh"])
        except KeyError:
            return (self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)

    def reset_parameters(self) -> None:
        """torch.nn's initialisation, or rnnkit's where asked for (``rnnkit.nn.options``)."""
        options = self.__dict__.get("rnnkit_options")
        if options is None or not options.rnnkit_init:
            super().reset_parameters()
            return
        self._cell().reset_(self._weights(), **options.init_kwargs())

    def forward(self, input: Tensor, hx=None):
        """One step: input (B, D) or (D,); hx (B, H) or (H,) (a pair (h, c) for the LSTM cell),
        zeros when None. Returns h' (the LSTM cell: (h', c')), batched as the input is."""
        cell = self._cell()
        check_rank("input", input, (1, 2), "(B, D), or (D,) unbatched")
        check_features(input, self.input_size, "(B, D)")
        batched = input.dim() == 2
        x = input if batched else input.unsqueeze(0)
        B, H = x.shape[0], self.hidden_size
        if hx is None:
            h, c = x.new_zeros(B, H), (x.new_zeros(B, H) if cell.has_cell_state else None)
        else:
            parts = state_parts("hx", hx, cell.has_cell_state)
            for name, t in zip(("h", "c"), parts):
                check_rank(f"hx {name}", t, (1, 2), "(B, H), or (H,) unbatched")
            if not batched:
                parts = tuple(t.unsqueeze(0) for t in parts)
            for name, t in zip(("h", "c"), parts):
                check_state(f"hx {name}", t, (B, H), x, "(B, H)")
            h, c = parts if cell.has_cell_state else (parts[0], None)
        check_dtype_device(x, self.weight_ih, RuntimeError)  # after the sizes, as torch.nn's cells
        if self.input_size == 0 or H == 0:  # sizes torch.nn's cells allow: the plain equations
            route = Route("autograd", cell)
        else:
            route = resolve(cell, self.rnnkit_options.backend, x.device, step=x)
        h, c = one_step(route, x, h, c, self._weights())
        if not batched:
            h, c = h.squeeze(0), None if c is None else c.squeeze(0)
        return (h, c) if cell.has_cell_state else h

    def extra_repr(self) -> str:
        return super().extra_repr() + self.rnnkit_options.extra_repr()


class RNNCell(CellDropIn, nn.RNNCell):
    """torch.nn.RNNCell: ``RNNCell(input_size, hidden_size, bias=True, nonlinearity='tanh',
    device=None, dtype=None, *, backend='auto', recurrent_init=None)``."""

    _rnnkit_name = "rnn"

    def __init__(self, *args, backend: str = "auto", recurrent_init: str | None = None, **kwargs):
        self._begin(Options(backend=backend, recurrent_init=recurrent_init))
        super().__init__(*args, **kwargs)


class LSTMCell(CellDropIn, nn.LSTMCell):
    """torch.nn.LSTMCell: ``LSTMCell(input_size, hidden_size, bias=True, device=None, dtype=None,
    *, backend='auto', forget_bias=None, recurrent_init=None)``."""

    _rnnkit_name = "lstm"

    def __init__(self, *args, backend: str = "auto", forget_bias=None, recurrent_init: str | None = None, **kwargs):
        self._begin(Options(backend=backend, forget_bias=forget_bias, recurrent_init=recurrent_init))
        super().__init__(*args, **kwargs)


class GRUCell(CellDropIn, nn.GRUCell):
    """torch.nn.GRUCell: ``GRUCell(input_size, hidden_size, bias=True, device=None, dtype=None, *,
    backend='auto', reset_after=True, recurrent_init=None)``."""

    _rnnkit_name = "gru"

    def __init__(self, *args, backend: str = "auto", reset_after: bool = True, recurrent_init=None, **kwargs):
        self._begin(Options(backend=backend, reset_after=reset_after, recurrent_init=recurrent_init))
        super().__init__(*args, **kwargs)
