"""The language model a time budget gets: ``rnnkit train FILE --max-minutes M`` with no size given.

A model too big for its budget trains for too few steps and samples gibberish; one too small stops
improving early. So with a time budget and no size (flag, --config or --preset), rnnkit picks the
size measured best for that budget, and trains it with the budget recipe below (the demo's:
``rnnkit train`` is this rule at 3 minutes on the bundled Alice). Without a time budget (an epoch
or step budget) the model's own defaults apply (``LanguageModelConfig``: a 2x512 LSTM).

The table is from ``benchmarks/default_model.py`` on a 2-core CPU (``benchmarks/RESULTS.md``, "The
default model"): the best validation loss reached within 1, 3 and 10 minutes of wall clock, every
evaluation included, on tiny Shakespeare and Alice. It was measured for the LSTM; another ``--cell``
gets the same size (not measured). Every setting here is only a default: a flag overrides it.
"""

from __future__ import annotations

import copy
import math

#: Everything but the size: the demo's settings, measured good for short CPU budgets.
RECIPE = {
    "data": {"batch_size": 32, "seq_len": 100},
    "model": {"embedding_size": 64, "dropout": 0.2},
    "train": {"lr": 3e-3, "eval_every": 100, "lr_schedule": "plateau", "patience": 3},
}

#: (largest budget in minutes, num_layers, hidden_size), smallest budget first. Measured: 1x256 was
#: best within 1-2 minutes on both texts; from 3 minutes 2x256 was within 0.003 of the best on Alice
#: (2x512; 1x512 overfits it, 0.11 worse) and within 0.03 of the best on tiny Shakespeare (1x512;
#: 2x512 never led within 10 minutes): the smallest loss of the worst case over both texts.
SIZES = ((2.0, 1, 256), (math.inf, 2, 256))


def size_for(minutes: float) -> tuple[int, int]:
    """(num_layers, hidden_size) for a budget of ``minutes`` (> 0)."""
    assert minutes > 0, minutes
    return next((layers, hidden) for upto, layers, hidden in SIZES if minutes <= upto)


def budget_layer(minutes: float) -> dict:
    """The configuration layer of a run with a budget of ``minutes`` and no size given."""
    layer = copy.deepcopy(RECIPE)
    layers, hidden = size_for(minutes)
    layer["model"]["rnn"] = {"num_layers": layers, "hidden_size": hidden}
    return layer


def rule_text() -> str:
    """The rule in one line: "1x256 up to 2 minutes, 2x256 beyond"."""
    parts = []
    for upto, layers, hidden in SIZES:
        parts.append(f"{layers}x{hidden} " + (f"up to {upto:g}" if math.isfinite(upto) else "beyond"))
    return ", ".join(parts[:1]) + " minutes, " + ", ".join(parts[1:])


def sized_line(minutes: float, cell: str) -> str:
    """The start-up line of a run whose model the budget sized."""
    layers, hidden = size_for(minutes)
    return (
        f"model: a {layers}x{hidden} {cell.upper()}, sized for --max-minutes {minutes:g} ({rule_text()}); "
        "--hidden-size and --num-layers choose another"
    )
