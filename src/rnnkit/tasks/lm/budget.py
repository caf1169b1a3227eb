"""The language model a time budget gets: ``rnnkit train FILE --max-minutes M`` with no size given.

A model too big for its budget trains for too few steps and samples gibberish; one too small stops
improving early; and what limits a run depends on how much text it has for its time. So with a
time budget and no size (flag, --config or --preset), rnnkit picks one of two measured recipes by
how many times the budget would read the text, and the size that recipe's table gives for the
budget:

    a large text for its budget (at most MAX_PASSES passes, estimated from CHARS_PER_S; tiny
        Shakespeare for 90 s to 10 minutes): LARGE, a high learning rate with a cosine decay that
        ends with the budget (what trains small transformers fast: rnnkit.train.optim.BudgetCosine),
        no dropout while compute limits the run (up to 12 passes), 0.2 beyond (LARGE_DROPOUT);
    a small text for its budget (overfitting limits the run; Alice for 3 minutes), or one of
        unknown size: SMALL, dropout 0.2 and a plateau decay, the best checkpoint kept (the demo:
        ``rnnkit train`` is this rule at 3 minutes on the bundled Alice).

Without a time budget (an epoch or step budget) the model's own defaults apply
(``LanguageModelConfig``: a 2x512 LSTM). The tables are from ``benchmarks/default_model.py`` and the
tuning runs of issue 14 on a 2-core CPU (``benchmarks/RESULTS.md``, "The default model" and "The
character model against a small transformer"): the best validation loss within the budget, wall
clock, every evaluation included. They were measured for the LSTM; another ``--cell`` gets the
same size (not measured). Every setting here is only a default: a flag overrides it.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Recipe:
    """Everything but the size (``settings``: a configuration layer) and the size by budget
    (``sizes``: (largest budget in minutes, num_layers, hidden_size), smallest budget first)."""

    name: str
    settings: dict
    sizes: tuple[tuple[float, int, int], ...]
    lr: dict = field(default_factory=dict)  # {(num_layers, hidden_size): lr} where a size has its own


#: Measured on Alice (issue 13): 1x256 best within 1-2 minutes; from 3 minutes 2x256 within 0.003
#: of the best (2x512; 1x512 overfits, 0.11 worse).
BATCHES = {"batch_size": 32, "seq_len": 100}  # both recipes' batches (T x B) and embedding size
EMBEDDING = 64
SMALL = Recipe(
    "small",
    {
        "data": BATCHES,
        "model": {"embedding_size": EMBEDDING, "dropout": 0.2},
        "train": {"lr": 3e-3, "eval_every": 100, "lr_schedule": "plateau", "patience": 3},
    },
    ((2.0, 1, 256), (math.inf, 2, 256)),
)
#: Measured on tiny Shakespeare (issue 14, nanoGPT's 90/10 split): for 90 s 1x256 at lr 8e-3 1.502
#: (1x512 1.504, a GRU 1.507, with dropout 0.2 1.542, the SMALL recipe 1.579); for 3 minutes 1x512
#: at 5e-3 1.459 (2x256 1.506, 1x256 1.526: 19 passes, it overfits).
LARGE = Recipe(
    "large",
    {
        "data": BATCHES,
        "model": {"embedding_size": EMBEDDING, "dropout": 0.0},
        "train": {"lr": 8e-3, "eval_every": 250, "lr_schedule": "cosine", "min_lr_factor": 0.05},
    },
    ((2.0, 1, 256), (math.inf, 1, 512)),
    {(1, 512): 5e-3},
)
#: Training characters per second of each LARGE size on the 2-core CPU (issue 14's tuning runs,
#: no dropout, batch 32 x 100): what the budget's passes over the text are estimated from.
CHARS_PER_S = {(1, 256): 115_000, (1, 512): 36_000}
#: LARGE's dropout by the passes its model would make over the text: (at most this many, dropout).
#: Measured on tiny Shakespeare: no dropout is best up to ~9 passes (1x256 for 90 s, 1x512 for 3
#: minutes) and overfits by ~19 (1x256 for 3 minutes: 1.526, 0.07 behind 1x512; 1x512 for 10
#: minutes: 1.517), where dropout 0.2 gives 1.443 (the SMALL recipe's 2x256: 1.48).
LARGE_DROPOUT = ((12.0, 0.0), (30.0, 0.2))
#: The most passes a LARGE run may make; beyond, the SMALL recipe (Alice for 3 minutes: ~49).
MAX_PASSES = LARGE_DROPOUT[-1][0]


def passes(minutes: float, chars: int, size: tuple[int, int]) -> float:
    """About how many times a LARGE run of ``minutes`` with model ``size`` reads a text of ``chars``."""
    return 60 * minutes * CHARS_PER_S[size] / max(chars, 1)


def _sized(recipe: Recipe, minutes: float) -> tuple[int, int]:
    return next((layers, hidden) for upto, layers, hidden in recipe.sizes if minutes <= upto)


def recipe_for(minutes: float, chars: int | None) -> Recipe:
    """The recipe of a budget of ``minutes`` on a text of ``chars`` characters: LARGE when its model
    would read the text at most MAX_PASSES times, else SMALL (also when the size is unknown)."""
    if chars is None or passes(minutes, chars, _sized(LARGE, minutes)) > MAX_PASSES:
        return SMALL
    return LARGE


def dropout_for(minutes: float, chars: int | None) -> float:
    """The dropout of a budget of ``minutes`` on a text of ``chars`` characters."""
    recipe = recipe_for(minutes, chars)
    if recipe is SMALL:
        return recipe.settings["model"]["dropout"]
    n = passes(minutes, chars, _sized(LARGE, minutes))
    return next(p for most, p in LARGE_DROPOUT if n <= most)


def size_for(minutes: float, chars: int | None = None) -> tuple[int, int]:
    """(num_layers, hidden_size) for a budget of ``minutes`` (> 0) on a text of ``chars`` characters."""
    assert minutes > 0, minutes
    return _sized(recipe_for(minutes, chars), minutes)


def text_chars(sources: list[str]) -> int | None:
    """About how many characters the text files ``sources`` hold (their bytes: the same for ASCII
    text); None when one is not a plain file (a directory, a compressed or missing file)."""
    total = 0
    for source in sources:
        path = Path(source)
        if path.suffix == ".gz" or not path.is_file():
            return None
        total += path.stat().st_size
    return total


def budget_layer(minutes: float, chars: int | None = None) -> dict:
    """The configuration layer of a run with a budget of ``minutes`` and no size given, on a text
    of ``chars`` characters (``text_chars``; None: unknown)."""
    recipe = recipe_for(minutes, chars)
    layer = copy.deepcopy(recipe.settings)
    layers, hidden = size_for(minutes, chars)
    layer["model"]["rnn"] = {"num_layers": layers, "hidden_size": hidden}
    layer["model"]["dropout"] = dropout_for(minutes, chars)
    if (layers, hidden) in recipe.lr:
        layer["train"]["lr"] = recipe.lr[layers, hidden]
    return layer


def rule_text(recipe: Recipe) -> str:
    """A recipe's sizes in one line: "1x256 up to 2 minutes, 2x256 beyond" (or "1x256")."""
    parts = []
    for upto, layers, hidden in recipe.sizes:
        lr = f" at --lr {recipe.lr[layers, hidden]:g}" if (layers, hidden) in recipe.lr else ""
        parts.append(f"{layers}x{hidden}{lr}" + (f" up to {upto:g} minutes" if math.isfinite(upto) else ""))
    if len(parts) > 1:
        parts[-1] += " beyond"
    return ", ".join(parts)


def sized_line(minutes: float, cell: str, chars: int | None) -> str:
    """The start-up line of a run whose model the budget sized."""
    layers, hidden = size_for(minutes, chars)
    recipe = recipe_for(minutes, chars)
    if chars is None:
        why = "a text of unknown size"
    else:
        why = f"{chars:,} characters, ~{passes(minutes, chars, _sized(LARGE, minutes)):.0f} passes in the budget"
        why += f", over {MAX_PASSES:g}" if recipe is SMALL else f": dropout {dropout_for(minutes, chars):g}"
    return (
        f"model: a {layers}x{hidden} {cell.upper()}, sized for --max-minutes {minutes:g} with the {recipe.name}-text "
        f"recipe ({why}; {rule_text(recipe)}); --hidden-size and --num-layers choose another"
    )
