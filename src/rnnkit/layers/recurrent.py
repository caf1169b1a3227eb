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
                benchmarks/RESULTS.md: see ``resolved_backend``.

The single-step API never steps torch.nn's sequence kernel (which pays its setup cost on every
token): it runs torch's cell kernels (as nn.LSTMCell does) where the backend resolves to "native",
and our cell equations (``Cell.reference_step``) otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.nn.utils.rnn import PackedSequence, pack_padded_sequence, pad_packed_sequence

from rnnkit.cells import CELL_TYPES, FORGET_BIAS, NONLINEARITIES, compiled, init_weights_, make_cell
from rnnkit.layers import native
from rnnkit.layers.fused import fused_recurrence
from rnnkit.layers.reference import reference_recurrence
from rnnkit.layers.sequence import SortedBatch, check_lengths, reverse_index, reverse_time, zero_padding
from rnnkit.layers.state import initial_state, stack_states

BACKENDS = ("auto", "fused", "autograd", "native")


@dataclass
class RecurrentConfig:
    """Everything that defines a recurrent stack. Defaults follow torch.nn where it has one."""

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

    def __post_init__(self):
        if self.cell not in CELL_TYPES:
            raise ValueError(f"cell: expected one of {CELL_TYPES}, got {self.cell!r}")
        for name in ("input_size", "hidden_size", "num_layers"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name}: expected a positive integer, got {value!r}")
        if not 0.0 <= float(self.dropout) < 1.0:
            raise ValueError(f"dropout: expected a probability in [0, 1), got {self.dropout!r}")
        if self.backend not in BACKENDS:
            raise ValueError(f"backend: expected one of {BACKENDS}, got {self.backend!r}")
        if self.nonlinearity not in NONLINEARITIES:
            raise ValueError(f"nonlinearity: expected one of {NONLINEARITIES}, got {self.nonlinearity!r}")
        if self.backend == "native" and self.cell == "gru" and not self.reset_after:
            raise ValueError(
                "backend: expected 'auto', 'fused' or 'autograd' for a GRU with "
                "reset_after=False (torch.nn has no such GRU), got 'native'"
            )


class Recurrent(nn.Module):
    """A stack of recurrent layers. Parameters carry torch.nn's names (weight_ih_l0, ...,
    weight_hh_l1_reverse), so ``state_dict``s are interchangeable with torch.nn's.

    Shapes (batch_first=False; swap T and B in x and output when batch_first=True):
        x (T, B, D), or a PackedSequence; lengths (B,) in any order, 1 <= len <= T
        state: h (L*dirs, B, H), or (h, c) for LSTM; zeros when None
        output (T, B, dirs*H), zero past each sequence's length (a PackedSequence if x was)
        final state: like ``state``, each sequence's state at its last valid step
    """

    def __init__(self, config: RecurrentConfig | None = None, **overrides):
        super().__init__()
        if config is None:
            config = RecurrentConfig(**overrides)
        elif overrides:
            config = RecurrentConfig(**{**config.__dict__, **overrides})
        self.config = config
        self._bias_cache: dict[int, tuple] = {}
        self._weight_names = [  # [layer][direction] -> the four parameter names, built once
            [
                tuple(f"{kind}_l{layer}{suffix}" for kind in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"))
                for suffix in (("", "_reverse") if config.bidirectional else ("",))
            ]
            for layer in range(config.num_layers)
        ]
        self.cell = make_cell(config.cell, config.nonlinearity, config.reset_after)
        self.num_directions = 2 if config.bidirectional else 1
        G, H = self.cell.num_gates, config.hidden_size
        for layer in range(config.num_layers):
            d_in = config.input_size if layer == 0 else H * self.num_directions
            for suffix in self._suffixes():
                self.register_parameter(f"weight_ih_l{layer}{suffix}", nn.Parameter(torch.empty(G * H, d_in)))
                self.register_parameter(f"weight_hh_l{layer}{suffix}", nn.Parameter(torch.empty(G * H, H)))
                if config.bias:
                    self.register_parameter(f"bias_ih_l{layer}{suffix}", nn.Parameter(torch.empty(G * H)))
                    self.register_parameter(f"bias_hh_l{layer}{suffix}", nn.Parameter(torch.empty(G * H)))
        self.reset_parameters()

    # ----- parameters -------------------------------------------------------------------------
    def _suffixes(self) -> tuple[str, ...]:
        return ("", "_reverse") if self.config.bidirectional else ("",)

    def reset_parameters(self) -> None:
        for layer in range(self.config.num_layers):
            for direction in range(self.num_directions):
                init_weights_(
                    self.cell,
                    *self.layer_weights(layer, direction),
                    recurrent_init=self.config.recurrent_init,
                    forget_bias=self.config.forget_bias,
                )

    def layer_weights(self, layer: int, direction: int = 0) -> tuple[Tensor, Tensor, Tensor | None, Tensor | None]:
        """(W_ih, W_hh, b_ih, b_hh) of one layer and direction (biases None when bias=False)."""
        get, names = self._parameters.get, self._weight_names[layer][direction]
        return get(names[0]), get(names[1]), get(names[2]), get(names[3])

    def flat_weights(self) -> list[Tensor]:
        """Parameters in torch.nn's ``_flat_weights`` order."""
        return [
            w
            for layer in range(self.config.num_layers)
            for d in range(self.num_directions)
            for w in self.layer_weights(layer, d)
            if w is not None
        ]

    @property
    def hidden_size(self) -> int:
        return self.config.hidden_size

    @property
    def output_size(self) -> int:
        return self.config.hidden_size * self.num_directions

    def resolved_backend(self, device: torch.device | None = None, grad: bool | None = None) -> str:
        """The backend ``backend`` resolves to on ``device`` (default: the weights') when autograd
        is (``grad=True``) or is not recording (default: whether it is now and the weights need it).

        The "auto" rule, from benchmarks/RESULTS.md (2-core CPU, every cell and size measured):
        torch's kernels where they are fastest (cuDNN on GPU; oneDNN's LSTM on CPU; GRU inference
        on CPU), our fused BPTT where it beats them (Elman RNN on CPU, 1.2-1.5x torch.nn; GRU
        training on CPU, 1.04-1.28x) or where torch.nn lacks the cell (the reset-before GRU)."""
        if self.config.backend != "auto":
            return self.config.backend
        if not native.supports(self.cell):
            return "fused"
        w = self.weight_ih_l0
        if (device or w.device).type != "cpu" or self.cell.name == "lstm":
            return "native"
        if self.cell.name == "rnn":
            return "fused"
        recording = grad if grad is not None else torch.is_grad_enabled() and w.requires_grad
        return "fused" if recording else "native"  # GRU

    # ----- forward ----------------------------------------------------------------------------
    def forward(self, x, state=None, lengths=None):
        cfg = self.config
        packed = x if isinstance(x, PackedSequence) else None
        if packed is not None:
            if lengths is not None:
                raise ValueError(
                    "lengths: expected None with a PackedSequence input (it carries its own), got a lengths argument"
                )
            x, lengths = pad_packed_sequence(packed, batch_first=cfg.batch_first)
        self._check_input(x)
        xt = x.transpose(0, 1) if cfg.batch_first else x  # (B, T, D) -> (T, B, D)
        T, B, _ = xt.shape
        lengths = check_lengths(lengths, B, T, xt.device)
        shape = (cfg.num_layers * self.num_directions, B, cfg.hidden_size)
        h0, c0 = initial_state(state, self.cell.has_cell_state, shape, xt)

        backend = self.resolved_backend(xt.device)
        if backend == "native":
            hx = (h0, c0) if c0 is not None else h0
            out, h_n, c_n = native.native_recurrence(
                self.cell,
                xt,
                hx,
                self.flat_weights(),
                cfg.bias,
                cfg.num_layers,
                float(cfg.dropout),
                self.training,
                cfg.bidirectional,
                lengths,
            )
        else:
            out, h_n, c_n = self._run_ours(backend, xt, h0, c0, lengths)

        final = (h_n, c_n) if c_n is not None else h_n
        if packed is not None:
            order = packed.sorted_indices if packed.sorted_indices is not None else torch.arange(B)
            data = pack_padded_sequence(out.index_select(1, order.to(out.device)), lengths[order].cpu()).data
            return PackedSequence(data, packed.batch_sizes, packed.sorted_indices, packed.unsorted_indices), final
        return (out.transpose(0, 1) if cfg.batch_first else out), final

    def _run_ours(self, backend: str, xt: Tensor, h0: Tensor, c0: Tensor | None, lengths: Tensor | None):
        """The stack loop for the fused and autograd backends. xt is (T, B, D)."""
        cfg, cell = self.config, self.cell
        T, B, _ = xt.shape
        fused = backend == "fused"
        sorted_batch, batch_sizes = None, None
        if fused and lengths is not None:
            sorted_batch = SortedBatch.of(lengths, T)
            xt = zero_padding(xt.index_select(1, sorted_batch.order), sorted_batch.lengths)
            h0 = h0.index_select(1, sorted_batch.order)
            c0 = None if c0 is None else c0.index_select(1, sorted_batch.order)
            lengths, batch_sizes = sorted_batch.lengths, sorted_batch.batch_sizes
        rev = reverse_index(lengths, T, B, xt.device) if cfg.bidirectional else None

        def run_layer(x_in, h0_k, c0_k, weights, layer, direction):
            if fused:
                return fused_recurrence(cell, x_in, h0_k, c0_k, *weights, batch_sizes)
            return reference_recurrence(cell, x_in, h0_k, c0_k, *weights, lengths)

        inp, hs, cs = self.run_stack(xt, h0, c0, rev, run_layer)

        final = stack_states(hs, cs)
        h_n, c_n = final if isinstance(final, tuple) else (final, None)
        if sorted_batch is not None:
            inv = sorted_batch.inverse
            inp, h_n = inp.index_select(1, inv), h_n.index_select(1, inv)
            c_n = None if c_n is None else c_n.index_select(1, inv)
        return inp, h_n, c_n

    def run_stack(self, xt: Tensor, h0: Tensor, c0: Tensor | None, rev: Tensor | None, run_layer):
        """The loop over layers and directions, written once (the diagnostics' tracer reuses it).

        xt (T, B, D) time-major; h0, c0 (L*dirs, B, H); rev the in-length reversal index (or None).
        ``run_layer(x_in, h0_k, c0_k, weights, layer, direction) -> (y (T, B, H), h_n, c_n)`` runs one
        layer-direction in reading order. Returns (top output (T, B, dirs*H), [h_n...], [c_n...])."""
        cfg = self.config
        inp, hs, cs = xt, [], []
        for layer in range(cfg.num_layers):
            outs = []
            for direction in range(self.num_directions):
                k = layer * self.num_directions + direction
                x_in = inp if direction == 0 else reverse_time(inp, rev)
                c_k = None if c0 is None else c0[k]
                y, h, c = run_layer(x_in, h0[k], c_k, self.layer_weights(layer, direction), layer, direction)
                outs.append(y if direction == 0 else reverse_time(y, rev))
                hs.append(h)
                cs.append(c)
            inp = torch.cat(outs, dim=2) if len(outs) > 1 else outs[0]  # (T, B, dirs*H)
            if cfg.dropout and self.training and layer < cfg.num_layers - 1:
                inp = F.dropout(inp, cfg.dropout, training=True)
        return inp, hs, cs

    # ----- one step ---------------------------------------------------------------------------
    def step(self, x_t: Tensor, state=None):
        """One time step of the whole stack: x_t (B, D) -> (h_t of the top layer (B, H), new state).

        Equal to ``forward`` on the sequence, one step at a time (tests check it)."""
        cfg = self.config
        if cfg.bidirectional:
            raise ValueError(
                "step: expected a unidirectional layer (a backward direction needs the "
                "whole sequence), got bidirectional=True"
            )
        self._check_input(x_t, rank=2)
        B = x_t.shape[0]
        h0, c0 = initial_state(state, self.cell.has_cell_state, (cfg.num_layers, B, cfg.hidden_size), x_t)
        h_layers = h0.unbind(0)  # one call instead of L indexings (this runs once per generated token)
        c_layers = (None,) * cfg.num_layers if c0 is None else c0.unbind(0)
        # Without autograd (generation), "auto" and "fused" run the cell's compiled kernel where it
        # has one (one pass over the gates; CPU); else torch's C++ cell kernels whenever torch has
        # the cell and no backend of ours was asked for; else the reference equations.
        kernel = self.cell.kernel if cfg.backend in ("auto", "fused") else None
        if kernel is not None and not torch.is_grad_enabled() and compiled.usable(kernel, x_t):
            return self._fused_step(x_t, h_layers, c_layers)
        use_native = cfg.backend in ("auto", "native") and native.supports(self.cell)
        inp, hs, cs = x_t, [], []
        for layer in range(cfg.num_layers):
            w_ih, w_hh, b_ih, b_hh = weights = self.layer_weights(layer)
            h, c = h_layers[layer], c_layers[layer]
            if use_native:  # torch's C++ cell kernels: same equations, no per-op Python dispatch
                h, c = native.native_step(self.cell, inp, h, c, *weights)
            else:
                x_proj = F.linear(inp, w_ih, self._input_bias(layer, b_ih, b_hh))  # (B, D) -> (B, G*H)
                h, c = self.cell.reference_step(x_proj, h, c, w_hh, b_hh)
            hs.append(h)
            cs.append(c)
            inp = self._between_layers(h, layer)
        return hs[-1], stack_states(hs, cs)

    def _fused_step(self, x_t: Tensor, h_layers: tuple, c_layers: tuple):
        """``step`` through the cell's ``inference_step`` (no autograd), each layer writing
        its new state straight into the stacked state returned (no per-token stacking)."""
        L, B, H = self.config.num_layers, x_t.shape[0], self.config.hidden_size
        h_out = x_t.new_empty(L, B, H)
        c_out = x_t.new_empty(L, B, H) if self.cell.has_cell_state else None
        inp = x_t
        for layer in range(L):
            w_ih, w_hh, b_ih, b_hh = self.layer_weights(layer)
            bias = self._input_bias(layer, b_ih, b_hh)
            c = None if c_out is None else c_out[layer]
            self.cell.inference_step(inp, h_layers[layer], c_layers[layer], h_out[layer], c, w_ih, w_hh, bias, b_hh)
            inp = self._between_layers(h_out[layer], layer)
        state = h_out if c_out is None else (h_out, c_out)
        return h_out[L - 1].clone(), state  # a copy: in-place edits of the output leave the state alone

    def _between_layers(self, h: Tensor, layer: int) -> Tensor:
        """A layer's output as the next layer's input: dropout (training) below the top layer."""
        cfg = self.config
        if cfg.dropout and self.training and layer < cfg.num_layers - 1:
            return F.dropout(h, cfg.dropout, training=True)
        return h

    def _input_bias(self, layer: int, b_ih: Tensor | None, b_hh: Tensor | None) -> Tensor | None:
        """The cell's input bias. Without autograd (generation) the sum b_ih + b_hh is cached
        until either bias changes (tensor version counters tick on every in-place update)."""
        if b_ih is None or torch.is_grad_enabled():
            return self.cell.input_bias(b_ih, b_hh)
        key = (b_ih._version, b_hh._version, b_ih.data_ptr(), b_hh.data_ptr())
        cached = self._bias_cache.get(layer)
        if cached is None or cached[0] != key:
            cached = self._bias_cache[layer] = (key, self.cell.input_bias(b_ih, b_hh))
        return cached[1]

    # ----- validation -------------------------------------------------------------------------
    def _check_input(self, x, rank: int = 3) -> None:
        cfg = self.config
        layout = "(B, D)" if rank == 2 else ("(B, T, D)" if cfg.batch_first else "(T, B, D)")
        if not isinstance(x, Tensor):
            raise ValueError(f"input: expected a tensor {layout}, got {type(x).__name__}")
        if x.dim() != rank:
            raise ValueError(f"input: expected a {rank}-D tensor {layout}, got shape {tuple(x.shape)}")
        if x.shape[-1] != cfg.input_size:
            raise ValueError(f"input: expected feature size D={cfg.input_size}, got {x.shape[-1]}")
        w = self.weight_ih_l0
        if x.dtype != w.dtype:
            raise ValueError(f"input: expected dtype {w.dtype} (the weights'), got {x.dtype}")
        if x.device != w.device:
            raise ValueError(f"input: expected device {w.device} (the weights'), got {x.device}")

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
