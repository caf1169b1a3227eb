"""Exact weight conversion to and from torch.nn.RNN / LSTM / GRU.

Parameter names and layouts are identical (see ``rnnkit.cells.base``), so conversion is a
``state_dict`` copy: no transposes, no gate reordering, bit-for-bit equal weights. Which torch.nn
class a cell is, and which of its options torch.nn's constructor takes, come from the registry.
"""

from __future__ import annotations

from torch import nn

from rnnkit.cells import REGISTRY, torch_classes
from rnnkit.layers import native
from rnnkit.layers.recurrent import Recurrent, RecurrentConfig


def from_torch(module: nn.RNNBase, backend: str = "auto") -> Recurrent:
    """A ``Recurrent`` with the configuration and exact weights of a torch.nn recurrent module."""
    cell = next((name for cls, name in torch_classes().items() if type(module) is getattr(nn, cls)), None)
    if cell is None:
        raise ValueError(f"from_torch: expected a torch.nn.RNN, LSTM or GRU, got {type(module).__name__}")
    takes = {o for entry in REGISTRY if entry.cell.name == cell for o in entry.cell.torch_options}
    options = {name: getattr(module, name) for name in sorted(takes)}
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
        **options,
    )
    p = next(module.parameters())
    layer = Recurrent(config).to(device=p.device, dtype=p.dtype)
    layer.load_state_dict(module.state_dict())
    return layer


def to_torch(layer: Recurrent) -> nn.RNNBase:
    """The torch.nn module with this layer's configuration and exact weights. The regularisers that
    act in training only (weight drop, recurrent and variational dropout) are left behind: torch.nn
    has none of them, and the evaluated function is the same without them. Zoneout changes the
    evaluated function too (its expectation), so a layer with zoneout is refused."""
    cfg, cell = layer.config, layer.cell
    if not native.supports(cell):
        raise ValueError(
            f"to_torch: expected a cell torch.nn implements, got {cell.without_native} ({cell.why_not_native})"
        )
    zoned = [f"{n}={getattr(cfg, n)}" for n in ("zoneout", "zoneout_cell") if getattr(cfg, n)]
    if zoned:
        raise ValueError(
            f"to_torch: expected no zoneout (torch.nn has none, and its expectation is part of the evaluated "
            f"function), got {', '.join(zoned)}"
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
    kwargs.update({name: getattr(cfg, name) for name in cell.torch_options})
    p = layer.weight_ih_l0
    module = native.torch_module_class(cell)(**kwargs).to(device=p.device, dtype=p.dtype)
    module.load_state_dict(layer.state_dict())
    return module
