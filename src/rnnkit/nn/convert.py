"""A whole model's recurrent modules swapped between torch.nn and rnnkit.nn, parameters kept.

    model = rnnkit.nn.from_torch(model)   # every nn.RNN/LSTM/GRU/*Cell -> its rnnkit.nn drop-in
    model = rnnkit.nn.to_torch(model)     # and back (torch's own tools that match exact types:
                                          # torch.ao.quantization.quantize_dynamic, export)

The replacement holds the SAME parameter tensors (not copies), so an optimiser built before the
swap keeps updating them, and nothing is drawn from the random generator. A module matched by exact
type only: a parametrised one (weight_norm makes a subclass) is left alone, so swap before
parametrising. Returns the model (or, when ``model`` is itself such a module, its replacement).
"""

from __future__ import annotations

from torch import nn

from rnnkit.nn.cell import GRUCell, LSTMCell, RNNCell
from rnnkit.nn.rnn import GRU, LSTM, RNN

__all__ = ["from_torch", "to_torch"]

_OURS = {nn.RNN: RNN, nn.LSTM: LSTM, nn.GRU: GRU, nn.RNNCell: RNNCell, nn.LSTMCell: LSTMCell, nn.GRUCell: GRUCell}
_THEIRS = {ours: theirs for theirs, ours in _OURS.items()}


def from_torch(model: nn.Module, backend: str = "auto") -> nn.Module:
    """``model`` with each torch.nn recurrent module replaced by its rnnkit.nn drop-in."""
    return _swap(model, _OURS, {"backend": backend})


def to_torch(model: nn.Module) -> nn.Module:
    """``model`` with each rnnkit.nn drop-in replaced by its torch.nn class (torch.nn's computation)."""
    return _swap(model, _THEIRS, {})


def _swap(model: nn.Module, table: dict, extra: dict) -> nn.Module:
    if type(model) in table:
        return _counterpart(model, table[type(model)], extra)
    for parent in list(model.modules()):
        for child_name, child in list(parent.named_children()):
            if type(child) in table:
                setattr(parent, child_name, _counterpart(child, table[type(child)], extra))
    return model


def _counterpart(module: nn.Module, cls: type, extra: dict) -> nn.Module:
    options = getattr(module, "rnnkit_options", None)
    if options is not None and not options.reset_after:
        raise ValueError(
            f"to_torch: expected modules torch.nn can compute, got {type(module).__name__} with reset_after=False "
            "(torch.nn has only the reset-after GRU)"
        )
    if isinstance(module, nn.RNNBase):
        args = [module.input_size, module.hidden_size, module.num_layers]
        kwargs = {k: getattr(module, k) for k in ("bias", "batch_first", "dropout", "bidirectional")}
        if module.proj_size:
            kwargs["proj_size"] = module.proj_size
        if isinstance(module, nn.RNN):
            kwargs["nonlinearity"] = module.nonlinearity
    else:
        args, kwargs = [module.input_size, module.hidden_size], {"bias": module.bias}
        if isinstance(module, nn.RNNCell):
            kwargs["nonlinearity"] = module.nonlinearity
    other = cls(*args, **kwargs, **extra, device="meta")  # no memory, no random draws: replaced below
    for name, p in module.named_parameters(recurse=False):
        other._parameters[name] = p
    if isinstance(other, nn.RNNBase):
        other._init_flat_weights()
    return other.train(module.training)
