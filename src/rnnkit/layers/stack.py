"""The stack's machinery: the loop over layers and directions, the backend dispatch, one step.

``Stack`` is a mixin for an ``nn.Module`` that owns a recurrent stack's parameters under torch.nn's
names. Two modules use it: ``rnnkit.layers.Recurrent`` (rnnkit's own layer, configured by a
``RecurrentConfig``) and the drop-ins of ``rnnkit.nn`` (torch.nn's classes and interface). The host
calls ``setup(config)`` once its parameters exist and provides ``training`` (every nn.Module does);
everything else, the weights included, is read here through ``layer_weights``, so a weight that is
parametrised or re-assigned is the weight every backend computes with.
"""

from __future__ import annotations

from contextlib import contextmanager

import torch
from torch import Tensor
from torch.nn.utils.rnn import PackedSequence, pack_padded_sequence, pad_packed_sequence

from rnnkit.cells import cell_for
from rnnkit.layers import native
from rnnkit.layers.backend import Route, resolve
from rnnkit.layers.config import RecurrentConfig
from rnnkit.layers.dropout import dropout, locked_dropout
from rnnkit.layers.fused import fused_recurrence
from rnnkit.layers.reference import StackObserver, reference_recurrence
from rnnkit.layers.regularise import StepRegulariser, drop_weights, zone_out
from rnnkit.layers.sequence import SortedBatch, check_lengths, reverse_index, reverse_time, zero_padding
from rnnkit.layers.state import initial_state, stack_states

__all__ = ["Stack", "one_step"]


class Stack:
    """The forward, one-step and backend machinery of a recurrent stack (see the module docstring).

    Shapes (batch_first=False; swap T and B in x and output when batch_first=True):
        x (T, B, D), or a PackedSequence; lengths (B,) in any order, 1 <= len <= T
        state: h (L*dirs, B, H), or (h, c) for LSTM; zeros when None (with proj_size=P, h is
            (L*dirs, B, P))
        output (T, B, dirs*H) (dirs*P with a projection), zero past each sequence's length (a
            PackedSequence if x was)
        final state: like ``state``, each sequence's state at its last valid step
    """

    config: RecurrentConfig
    #: Dropout between layers scales kept values by 1/(1-p), torch.nn's values, instead of 1/q
    #: (``rnnkit.layers.dropout``: E[y] = x exactly); the drop-ins set it.
    torch_dropout_scale: bool = False

    def setup(self, config: RecurrentConfig) -> None:
        """Adopt ``config`` (again, after a change of dropout or batch_first): the cell, the state
        sizes and each layer-direction's parameter names (``{kind}_l{layer}[_reverse]``)."""
        self.config = config
        self._bias_cache: dict[int, tuple] = {}
        self._observer: StackObserver | None = getattr(self, "_observer", None)
        self.cell = cell_for(config)
        self.num_directions = 2 if config.bidirectional else 1
        self._state_sizes = self.cell.state_sizes(config.hidden_size)  # (h size, c size or None)
        suffixes = ("", "_reverse") if config.bidirectional else ("",)
        self._weight_names: list[list[tuple[str, ...]]] = []  # [layer][direction] -> parameter names
        for layer in range(config.num_layers):
            d_in = self.layer_input_size(layer)
            params = self.cell.parameters(d_in, config.hidden_size)
            self._weight_names.append([tuple(f"{p.kind}_l{layer}{s}" for p in params) for s in suffixes])
        kinds = [p.kind for p in self.cell.parameters(config.input_size, config.hidden_size)]
        self._hh_index = kinds.index("weight_hh") if "weight_hh" in kinds else None  # what weight drop masks

    def layer_input_size(self, layer: int) -> int:
        """D for layer 0, the layer below's output size (dirs * h size) above it."""
        return self.config.input_size if layer == 0 else self._state_sizes[0] * self.num_directions

    # ----- parameters -------------------------------------------------------------------------
    def layer_weights(self, layer: int, direction: int = 0) -> tuple[Tensor | None, ...]:
        """The cell's parameters of one layer and direction, in declared order: (W_ih, W_hh, b_ih,
        b_hh) for the torch.nn cells (biases None when bias=False), then any the cell adds."""
        # a parametrised weight (weight_norm, spectral_norm) or one re-assigned as a plain tensor is an
        # attribute computed or stored outside _parameters: getattr for those (slower), else the dict
        params = self._parameters
        return tuple(params[n] if n in params else getattr(self, n, None) for n in self._weight_names[layer][direction])

    def forward_weights(self, layer: int, direction: int = 0) -> tuple[Tensor | None, ...]:
        """``layer_weights`` as this forward call computes with them: in training with
        ``weight_drop``, W_hh DropConnect-masked (one mask per call; ``rnnkit.layers.regularise``)."""
        w = self.layer_weights(layer, direction)
        p = self.config.weight_drop
        if p and self.training:
            return drop_weights(w, self._hh_index, p)
        return w

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
    def output_size(self) -> int:
        return self._state_sizes[0] * self.num_directions

    def resolved_backend(self, device: torch.device | None = None, grad: bool | None = None) -> str:
        """The backend ``backend`` resolves to on ``device`` (default: the weights') when autograd
        is (``grad=True``) or is not recording (default: whether it is now and the weights need it).
        The rule is ``rnnkit.layers.backend.resolve``'s."""
        return self._route(device, grad).backend

    def _route(self, device=None, grad: bool | None = None, dtype=None):
        w = self.weight_ih_l0
        recording = grad if grad is not None else torch.is_grad_enabled() and w.requires_grad
        observed = self._observer is not None
        route = resolve(self.cell, self.config.backend, device or w.device, dtype, recording, observed=observed)
        if route.backend != "autograd" and self._stepwise_regularised():
            return Route("autograd", self.cell)  # the config allows this only with backend "auto"
        return route

    def _stepwise_regularised(self) -> bool:
        """Whether a regulariser changes each step of this call: zoneout (its masks in training, its
        expectation in evaluation) or recurrent dropout (training). The autograd backend runs those."""
        cfg = self.config
        return bool(cfg.zoneout or cfg.zoneout_cell or (cfg.recurrent_dropout and self.training))

    @contextmanager
    def observe(self, observer: StackObserver):
        """Within the block, every forward runs the reference loop and reports each step of each
        layer-direction to ``observer`` (outputs and state as the layer's own forward)."""
        before, self._observer = self._observer, observer
        try:
            yield self
        finally:
            self._observer = before

    # ----- forward ----------------------------------------------------------------------------
    def run(self, x, state=None, lengths=None):
        """The stack's forward (``Recurrent.forward``'s contract); x a tensor or a PackedSequence."""
        cfg = self.config
        if self._observer is not None:
            self._observer.check(x, lengths)
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
        h_shape, c_shape = self._state_shapes(cfg.num_layers * self.num_directions, B)
        h0, c0 = initial_state(state, self.cell.has_cell_state, h_shape, xt, c_shape=c_shape)

        route = self._route(xt.device, dtype=xt.dtype)
        if route.backend == "native":
            out, h_n, c_n = self._run_native(xt, h0, c0, lengths)
        else:
            out, h_n, c_n = self._run_ours(route.backend, route.cell, xt, h0, c0, lengths)

        final = (h_n, c_n) if c_n is not None else h_n
        if packed is not None:
            order = packed.sorted_indices if packed.sorted_indices is not None else torch.arange(B)
            data = pack_padded_sequence(out.index_select(1, order.to(out.device)), lengths[order].cpu()).data
            return PackedSequence(data, packed.batch_sizes, packed.sorted_indices, packed.unsorted_indices), final
        return (out.transpose(0, 1) if cfg.batch_first else out), final

    def _run_native(self, xt: Tensor, h0: Tensor, c0: Tensor | None, lengths: Tensor | None):
        """torch's kernel over the whole stack; with dropout between layers (training), one call per
        layer and rnnkit's dropout between them (``rnnkit.layers.dropout``: cheaper on a CPU than
        the kernel's own), so every backend draws the same masks."""
        cfg, cell = self.config, self.cell
        per_layer_direction = (
            self.forward_weights(k, d) for k in range(cfg.num_layers) for d in range(self.num_directions)
        )
        flat = [t for w in per_layer_direction for t in w if t is not None]
        if not (cfg.dropout and self.training and cfg.num_layers > 1):
            hx = (h0, c0) if c0 is not None else h0
            args = (cfg.bias, cfg.num_layers, 0.0, self.training, cfg.bidirectional, lengths)
            return native.native_recurrence(cell, xt, hx, flat, *args)
        k, per_layer = self.num_directions, len(flat) // cfg.num_layers
        inp, hs, cs = xt, [], []
        for layer in range(cfg.num_layers):
            rows = slice(layer * k, (layer + 1) * k)
            hx = (h0[rows], c0[rows]) if c0 is not None else h0[rows]
            weights = flat[layer * per_layer : (layer + 1) * per_layer]
            args = (cfg.bias, 1, 0.0, True, cfg.bidirectional, lengths)
            out, h_n, c_n = native.native_recurrence(cell, inp, hx, weights, *args)
            hs.append(h_n)
            cs.append(c_n)
            inp = self._between_layers(out, layer)
        return inp, torch.cat(hs), None if cs[0] is None else torch.cat(cs)

    def _state_shapes(self, k: int, B: int) -> tuple[tuple[int, int, int], tuple[int, int, int]]:
        """The shapes of h and c for k layer-directions: (k, B, h size), (k, B, c size)."""
        h_size, c_size = self._state_sizes
        return (k, B, h_size), (k, B, c_size or h_size)

    def _run_ours(self, backend: str, cell, xt: Tensor, h0: Tensor, c0: Tensor | None, lengths: Tensor | None):
        """The stack loop for the fused and autograd backends. xt is (T, B, D); ``cell`` the resolved
        one (the kernel-backed variant, where the fused path runs it)."""
        cfg, observer = self.config, self._observer
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
                return fused_recurrence(cell, x_in, h0_k, c0_k, weights, batch_sizes)
            regulariser = StepRegulariser.of(cfg, self.training, h0_k)
            if observer is None:
                return reference_recurrence(self.cell, x_in, h0_k, c0_k, weights, lengths, regulariser=regulariser)
            seen = observer.layer(layer, direction, rev if direction else None)
            step_cell = cell if seen.fused_steps else self.cell
            return reference_recurrence(step_cell, x_in, h0_k, c0_k, weights, lengths, seen, regulariser)

        order = None if sorted_batch is None else sorted_batch.order
        inp, hs, cs = self.run_stack(xt, h0, c0, rev, run_layer, order)

        final = stack_states(hs, cs)
        h_n, c_n = final if isinstance(final, tuple) else (final, None)
        if sorted_batch is not None:
            inv = sorted_batch.inverse
            inp, h_n = inp.index_select(1, inv), h_n.index_select(1, inv)
            c_n = None if c_n is None else c_n.index_select(1, inv)
        return inp, h_n, c_n

    def run_stack(self, xt: Tensor, h0: Tensor, c0: Tensor | None, rev: Tensor | None, run_layer, order=None):
        """The loop over layers and directions, written once.

        xt (T, B, D) time-major; h0, c0 (L*dirs, B, H); rev the in-length reversal index (or None).
        ``run_layer(x_in, h0_k, c0_k, weights, layer, direction) -> (y (T, B, H), h_n, c_n)`` runs one
        layer-direction in reading order; ``order``: the original row of each of xt's rows, where the
        batch was reordered (dropout's masks are drawn in the original order, as the other backends
        draw them). Returns (top output (T, B, dirs*H), [h_n...], [c_n...])."""
        cfg = self.config
        inp, hs, cs = xt, [], []
        for layer in range(cfg.num_layers):
            outs = []
            for direction in range(self.num_directions):
                k = layer * self.num_directions + direction
                x_in = inp if direction == 0 else reverse_time(inp, rev)
                c_k = None if c0 is None else c0[k]
                y, h, c = run_layer(x_in, h0[k], c_k, self.forward_weights(layer, direction), layer, direction)
                outs.append(y if direction == 0 else reverse_time(y, rev))
                hs.append(h)
                cs.append(c)
            inp = torch.cat(outs, dim=2) if len(outs) > 1 else outs[0]  # (T, B, dirs*H)
            inp = self._between_layers(inp, layer, order)
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
        if self.training and self._per_sequence_masks():
            raise ValueError(
                f"step: expected eval mode with {self._per_sequence_masks()} (its masks are drawn once per "
                "sequence, not per step), got training mode"
            )
        B = x_t.shape[0]
        h_shape, c_shape = self._state_shapes(cfg.num_layers, B)
        h0, c0 = initial_state(state, self.cell.has_cell_state, h_shape, x_t, c_shape=c_shape)
        h_layers = h0.unbind(0)  # one call instead of L indexings (this runs once per generated token)
        c_layers = (None,) * cfg.num_layers if c0 is None else c0.unbind(0)
        route = resolve(self.cell, cfg.backend, x_t.device, step=x_t)
        zoned = bool(cfg.zoneout or cfg.zoneout_cell)  # a fresh mask per step in training, else the expectation
        if route.backend == "fused" and not zoned:
            return self._fused_step(route.cell, x_t, h_layers, c_layers)
        inp, hs, cs = x_t, [], []
        for layer in range(cfg.num_layers):
            w = self.layer_weights(layer)
            bias = None if route.backend == "native" else self._input_bias(layer, w)
            h, c = one_step(route, inp, h_layers[layer], c_layers[layer], w, bias)
            if zoned:
                h = zone_out(h, h_layers[layer], cfg.zoneout, self.training) if cfg.zoneout else h
                c = zone_out(c, c_layers[layer], cfg.zoneout_cell, self.training) if cfg.zoneout_cell else c
            hs.append(h)
            cs.append(c)
            inp = self._between_layers(h, layer)
        return hs[-1], stack_states(hs, cs)

    def _fused_step(self, cell, x_t: Tensor, h_layers: tuple, c_layers: tuple):
        """``step`` through the kernel-backed cell's ``inference_step`` (no autograd), each layer
        writing its new state straight into the stacked state returned (no per-token stacking)."""
        L, B = self.config.num_layers, x_t.shape[0]
        h_size, c_size = self._state_sizes
        h_out = x_t.new_empty(L, B, h_size)
        c_out = x_t.new_empty(L, B, c_size) if c_size is not None else None
        inp = x_t
        for layer in range(L):
            w = self.layer_weights(layer)
            c = None if c_out is None else c_out[layer]
            cell.inference_step(inp, h_layers[layer], c_layers[layer], h_out[layer], c, w, self._input_bias(layer, w))
            inp = self._between_layers(h_out[layer], layer)
        state = h_out if c_out is None else (h_out, c_out)
        return h_out[L - 1].clone(), state  # a copy: in-place edits of the output leave the state alone

    def _per_sequence_masks(self) -> str:
        """The regularisers of this stack whose masks are drawn once per sequence ('' if none):
        ``step`` cannot draw them in training (zoneout draws per step, and can)."""
        cfg = self.config
        on = [n for n in ("weight_drop", "recurrent_dropout") if getattr(cfg, n)]
        if cfg.variational and cfg.dropout:
            on.append("variational dropout")
        return ", ".join(on)

    def _between_layers(self, h: Tensor, layer: int, order: Tensor | None = None) -> Tensor:
        """A layer's output as the next layer's input: dropout (training) below the top layer; with
        ``variational``, one mask per sequence (``locked_dropout``). ``order``: h's rows are the
        batch's rows ``order`` (the mask is drawn in the batch's order)."""
        cfg = self.config
        if cfg.dropout and self.training and layer < cfg.num_layers - 1:
            scale = 1.0 / (1.0 - cfg.dropout) if self.torch_dropout_scale and cfg.dropout < 1 else None
            if cfg.variational and h.dim() == 3:
                if order is None:
                    return locked_dropout(h, cfg.dropout, scale=scale)
                return h * locked_dropout(torch.ones_like(h[:1]), cfg.dropout, scale=scale).index_select(1, order)
            if order is None:
                return dropout(h, cfg.dropout, scale=scale)
            return h * dropout(torch.ones_like(h), cfg.dropout, scale=scale).index_select(1, order)
        return h

    def _input_bias(self, layer: int, w: tuple) -> Tensor | None:
        """The cell's input bias (a function of b_ih and b_hh). Without autograd (generation) it is
        cached until either bias changes (tensor version counters tick on every in-place update)."""
        biases = self.cell.biases(w)
        if biases[0] is None or torch.is_grad_enabled():
            return self.cell.input_bias(w)
        key = tuple(n for b in biases for n in (b._version, b.data_ptr()))
        cached = self._bias_cache.get(layer)
        if cached is None or cached[0] != key:
            cached = self._bias_cache[layer] = (key, self.cell.input_bias(w))
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
        if rank == 3 and x.shape[1 if cfg.batch_first else 0] == 0:  # every backend alike (torch.nn refuses it too)
            raise ValueError(f"input: expected a sequence length T >= 1, got shape {tuple(x.shape)} {layout}")
        w = self.weight_ih_l0
        if x.dtype != w.dtype:
            raise ValueError(f"input: expected dtype {w.dtype} (the weights'), got {x.dtype}")
        if x.device != w.device:
            raise ValueError(f"input: expected device {w.device} (the weights'), got {x.device}")


def one_step(route: Route, x: Tensor, h: Tensor, c: Tensor | None, w: tuple, bias: Tensor | None = None):
    """One step of one layer by ``route`` (``resolve(..., step=x)``): x (B, D), h (B, h size), c
    (B, H) or None -> the new (h, c or None). ``bias``: the cell's input bias (None: computed here;
    torch's kernels take b_ih and b_hh themselves)."""
    cell = route.cell
    if route.backend == "fused":  # the kernel-backed variant's whole step, no autograd
        h_new, c_new = torch.empty_like(h), None if c is None else torch.empty_like(c)
        cell.inference_step(x, h, c, h_new, c_new, w, bias)
        return h_new, c_new
    if route.backend == "native":  # torch's C++ cell kernels: same equations, no per-op Python dispatch
        return native.native_step(cell, x, h, c, w)
    return cell.step(cell.project(x, w, bias), h, c, w)  # x_proj (B, G*H)
