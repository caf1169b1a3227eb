"""Exact weight conversion to and from torch.nn.RNN / LSTM / GRU.

Parameter names and layouts are identical (see ``rnnkit.cells.base``), so conversion is a
``state_dict`` copy: no transposes, no gate reordering, bit-for-bit equal weights.
"""

from __future__ import annotations

from torch import nn

from rnnkit.layers import native
from rnnkit.layers.recurrent import Recurrent, RecurrentConfig

_CELL_OF = {nn.LSTM: "lstm", nn.GRU: "gru", nn.RNN: "rnn"}


def from_torch(module: nn.RNNBase, backend: str = "auto") -> Recurrent:
    """A ``Recurrent`` with the configuration and exact weights of a torch.nn recurrent module."""
    cell = _CELL_OF.get(type(module))
    if cell is None:
        raise ValueError(f"from_torch: expected a torch.nn.RNN, LSTM or GRU, got {type(module).__name__}")
    if getattr(module, "proj_size", 0):
        raise ValueError(f"from_torch: expected an LSTM without projection, got proj_size={module.proj_size}")
    nonlinearity = getattr(module, "nonlinearity", "tanh")
    config = RecurrentConfig(
        cell=cell,
        input_size=module.input_size,
        hidden_size=module.hidden_size,
        num_layers=module.num_layers,
        bias=module.bias,
        batch_first=module.batch_first,
        dropout=float(module.dropout),
        bidirectional=module.bidirectional,
        backend=backend,
        nonlinearity=nonlinearity,
    )
    p = next(module.parameters())
    layer = Recurrent(config).to(device=p.device, dtype=p.dtype)
    layer.load_state_dict(module.state_dict())
    return layer


def to_torch(layer: Recurrent) -> nn.RNNBase:
    """The torch.nn module with this layer's configuration and exact weights."""
    cfg = layer.config
    if not native.supports(layer.cell):
        raise ValueError(
            "to_torch: expected a cell torch.nn implements, got a GRU with reset_after=False "
            "(torch.nn's GRU applies the reset gate after the recurrent matmul)"
        )
    kwargs = dict(
        input_size=cfg.input_size,
        hidden_size=cfg.hidden_size,
        num_layers=cfg.num_layers,
        bias=cfg.bias,
        batch_first=cfg.batch_first,
        dropout=cfg.dropout,
        bidirectional=cfg.bidirectional,
    )
    if cfg.cell == "rnn":
        kwargs["nonlinearity"] = cfg.nonlinearity
    p = layer.weight_ih_l0
    module = native.torch_module_class(layer.cell)(**kwargs).to(device=p.device, dtype=p.dtype)
    module.load_state_dict(layer.state_dict())
    return module
