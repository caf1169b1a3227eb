"""The registry of cells: everything that varies by cell type derives from it.

    REGISTRY            the registered cells, each with its kernel-backed variant (if any)
    CELL_TYPES          the cell names ("rnn", "lstm", "gru", ...): the config and CLI choices
    make_cell(...)      the cell object for a name and the configuration's options
    kernel_variant(...) the compiled variant of a cell for a call's device and dtype, or None

The layers (parameters, backends, the time loops), ``from_torch`` / ``to_torch`` (torch.nn's class
and options), the native backend (torch's kernel names) and the tests' parametrisation (``variants``)
read what they need from the cell classes listed here. Adding a cell = one new file + one entry.

A name may have several classes: the plain one, and those an option selects (``Cell.selected_by``:
``RecurrentConfig(cell="lstm", proj_size=P)`` is the projection LSTM).

To add a cell:
    1. ``cells/<cell>.py``: a ``Cell`` subclass with its equations and hand-derived backward in the
       docstring; ``name`` (a new name, or an existing one plus ``selected_by``), ``gate_order``,
       ``parameters`` (if not torch.nn's four), ``options`` it reads with their defaults, ``step``,
       the fused-path methods, ``variants`` (the forms the tests run), and the torch.nn facts if
       torch has it (``torch_module``, ``native``, ``native_cell``, ``torch_options``).
    2. ``Entry(TheCell)`` below. A new option is also a ``RecurrentConfig`` field (same default).
    Every test that enumerates ``variants()`` then runs it (gradcheck, fused == autograd, padded ==
    per-sequence, chunked == whole, step == forward, torch.nn parity where torch has it, tracing).
    Optionally a kernel-backed variant (``kernel_cells.py``, ``kernel=`` on its entry).
"""

from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace

from rnnkit.cells import compiled
from rnnkit.cells.base import Cell
from rnnkit.cells.gru import GRUCell
from rnnkit.cells.gru_ln import LayerNormGRUCell
from rnnkit.cells.indrnn import IndRNNCell
from rnnkit.cells.kernel_cells import (
    KernelGRUCell,
    KernelLayerNormGRUCell,
    KernelLayerNormLSTMCell,
    KernelLSTMCell,
    KernelMinGRUCell,
    KernelMinLSTMCell,
    KernelProjLSTMCell,
)
from rnnkit.cells.lstm import LSTMCell
from rnnkit.cells.lstm_ln import LayerNormLSTMCell
from rnnkit.cells.lstm_proj import ProjLSTMCell
from rnnkit.cells.mingru import MinGRUCell
from rnnkit.cells.minlstm import MinLSTMCell
from rnnkit.cells.rnn import ElmanCell


@dataclass(frozen=True)
class Entry:
    cell: type[Cell]  # the equations
    kernel: type | None = None  # its kernel-backed variant (``of(cell)``: the variant, or None)


REGISTRY: tuple[Entry, ...] = (
    Entry(ElmanCell),
    Entry(LSTMCell, kernel=KernelLSTMCell),
    Entry(GRUCell, kernel=KernelGRUCell),
    Entry(ProjLSTMCell, kernel=KernelProjLSTMCell),
    Entry(IndRNNCell),
    Entry(LayerNormLSTMCell, kernel=KernelLayerNormLSTMCell),
    Entry(LayerNormGRUCell, kernel=KernelLayerNormGRUCell),
    Entry(MinGRUCell, kernel=KernelMinGRUCell),
    Entry(MinLSTMCell, kernel=KernelMinLSTMCell),
)

CELL_TYPES: tuple[str, ...] = tuple(dict.fromkeys(entry.cell.name for entry in REGISTRY))
_KERNELS = {entry.cell: entry.kernel for entry in REGISTRY if entry.kernel is not None}
#: The defaults of every option a registered cell reads (RecurrentConfig's, for callers without one).
DEFAULTS: dict[str, object] = {k: v for entry in REGISTRY for k, v in entry.cell.options.items()}

#: Gate blocks in weight_ih / weight_hh / biases, top to bottom (torch.nn's order), per cell name.
GATE_ORDER: dict[str, tuple[str, ...]] = {name: next(e.cell for e in REGISTRY if e.cell.name == name).gate_order
                                          for name in CELL_TYPES}  # fmt: skip


def cell_class(name: str, options) -> type[Cell]:
    """The registered class for ``name`` under ``options`` (anything with the option attributes)."""
    if name not in CELL_TYPES:
        raise ValueError(f"cell: expected one of {CELL_TYPES}, got {name!r}")
    for selector in dict.fromkeys(e.cell.selected_by for e in REGISTRY if e.cell.selected_by):
        value = getattr(options, selector, 0)
        if not value:
            continue
        chosen = [e.cell for e in REGISTRY if e.cell.name == name and e.cell.selected_by == selector]
        if not chosen:
            takers = ", ".join(sorted({repr(e.cell.name) for e in REGISTRY if e.cell.selected_by == selector}))
            raise ValueError(f"{selector}: expected 0 for cell {name!r} (only {takers} has it), got {value!r}")
        return chosen[0]
    return next(e.cell for e in REGISTRY if e.cell.name == name and e.cell.selected_by is None)


def cell_for(options) -> Cell:
    """The cell object for a configuration (a RecurrentConfig, or anything with its attributes)."""
    return cell_class(options.cell, options).from_options(options)


def make_cell(cell: str, nonlinearity: str = "tanh", reset_after: bool = True, **options) -> Cell:
    """The cell math object for a cell name ("rnn", "lstm" or "gru") and its options
    (``proj_size=P`` for the projection LSTM; ``hidden_size=H`` to check it against)."""
    values = {**DEFAULTS, "nonlinearity": nonlinearity, "reset_after": reset_after, **options}
    return cell_for(SimpleNamespace(cell=cell, **values))


def kernel_variant(cell: Cell, device, dtype) -> Cell | None:
    """The kernel-backed variant of ``cell`` where its compiled kernel runs on ``device`` and
    ``dtype`` (built on first use), else None. Chosen once per call, never inside a time loop."""
    kind = _KERNELS.get(type(cell))
    if kind is None:
        return None
    variant = cell.__dict__.get("_kernel_variant", False)
    if variant is False:
        variant = cell.__dict__["_kernel_variant"] = kind.of(cell)
    if variant is None or not compiled.available(variant.kernel, device, dtype):
        return None
    return variant


def has_kernel(cell: Cell) -> bool:
    """Whether ``cell`` has a kernel-backed variant at all (whether it runs here: ``kernel_variant``)."""
    kind = _KERNELS.get(type(cell))
    return kind is not None and kind.of(cell) is not None


def torch_classes() -> dict[str, str]:
    """{torch.nn class name: cell name} for every registered cell torch.nn implements."""
    return {e.cell.torch_module: e.cell.name for e in REGISTRY if e.cell.torch_module}


def variants() -> dict[str, dict]:
    """Every form of every registered cell, {test id: RecurrentConfig keyword arguments}."""
    return {k: v for e in REGISTRY for k, v in e.cell.variants().items()}


def options_of(name: str) -> tuple[str, ...]:
    """The option names the classes registered under ``name`` read."""
    return tuple(dict.fromkeys(o for e in REGISTRY if e.cell.name == name for o in e.cell.options))
