"""Builders shared by the layer tests: small layers with random biases, their twins, inputs."""

import pytest
import torch

from rnnkit.layers import Recurrent, RecurrentConfig

T, B, D, H, L = 5, 3, 3, 4, 2
LENGTHS = [3, 5, 1]  # unsorted on purpose
F64 = torch.float64


def make(variant: dict, backend: str = "autograd", dtype=F64, seed: int = 0, **overrides) -> Recurrent:
    """A small layer (D=3, H=4, two layers unless overridden) with random, non-zero biases."""
    torch.manual_seed(seed)
    kwargs = {"input_size": D, "hidden_size": H, "num_layers": L, "backend": backend, **variant, **overrides}
    layer = Recurrent(RecurrentConfig(**kwargs)).to(dtype)
    with torch.no_grad():
        for name, p in layer.named_parameters():
            if name.startswith("bias"):
                p.uniform_(-0.5, 0.5)
    return layer


def twin(layer: Recurrent, **overrides) -> Recurrent:
    """The same weights under another configuration (e.g. another backend)."""
    other = Recurrent(layer.config, **overrides).to(layer.weight_ih_l0.dtype)
    other.load_state_dict(layer.state_dict())
    return other


def torch_twin(layer: Recurrent) -> torch.nn.RNNBase:
    """The torch.nn module with ``layer``'s configuration, weights copied by load_state_dict."""
    cfg = layer.config
    kwargs = {k: getattr(cfg, k) for k in ("num_layers", "bidirectional", "batch_first", "bias")}
    if cfg.cell == "rnn":
        kwargs["nonlinearity"] = cfg.nonlinearity
    if cfg.proj_size:
        kwargs["proj_size"] = cfg.proj_size
    cls = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU, "rnn": torch.nn.RNN}[cfg.cell]
    module = cls(cfg.input_size, cfg.hidden_size, **kwargs).to(layer.weight_ih_l0.dtype)
    module.load_state_dict(layer.state_dict())
    return module


def inputs(layer, batch: int = B, steps: int = T, dtype=F64, seed: int = 1, batch_first: bool = False):
    """Random x and a random initial state (h, or (h, c) for LSTM) for ``layer``."""
    cfg = layer.config
    g = torch.Generator().manual_seed(seed)
    shape = (batch, steps, cfg.input_size) if batch_first else (steps, batch, cfg.input_size)
    x = torch.randn(*shape, dtype=dtype, generator=g)
    k = cfg.num_layers * (2 if cfg.bidirectional else 1)
    h_size, c_size = layer.cell.state_sizes(cfg.hidden_size)
    h = 0.5 * torch.randn(k, batch, h_size, dtype=dtype, generator=g)
    return x, ((h, 0.5 * torch.randn(k, batch, c_size, dtype=dtype, generator=g)) if c_size else h)


def parts(state) -> list[torch.Tensor]:
    return list(state) if isinstance(state, tuple) else [state]


def run_with_grads(module, x, state, **kwargs):
    """Forward, then the gradient of a fixed random projection of (output, final state) w.r.t.
    x, the initial state and every named parameter. Works for Recurrent and torch.nn alike."""
    x = x.detach().clone().requires_grad_()
    state_in = [s.detach().clone().requires_grad_() for s in parts(state)]
    out, final = module(x, tuple(state_in) if len(state_in) == 2 else state_in[0], **kwargs)
    g = torch.Generator().manual_seed(7)
    outputs = [out, *parts(final)]
    loss = sum((o * torch.randn(o.shape, dtype=o.dtype, generator=g)).sum() for o in outputs)
    names, params = zip(*module.named_parameters())
    grads = torch.autograd.grad(loss, [x, *state_in, *params])
    named = dict(zip(["x"] + [f"state{i}" for i in range(len(state_in))] + list(names), grads))
    return [o.detach() for o in outputs], named


def assert_all_close(got, expected, **tol):
    if isinstance(got, dict):
        assert got.keys() == expected.keys()
        for k in got:
            torch.testing.assert_close(got[k], expected[k], msg=lambda m, k=k: f"{k}: {m}", **tol)
        return
    assert len(got) == len(expected)
    for a, b in zip(got, expected):
        torch.testing.assert_close(a, b, **tol)


TIGHT = {"rtol": 1e-10, "atol": 1e-12}
BIDIRECTIONAL = [pytest.param(False, id="uni"), pytest.param(True, id="bi")]
