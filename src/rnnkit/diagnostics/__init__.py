"""Looking inside recurrent networks: gradient flow through time, long-range memory tasks, and what
individual units and gates do along a text.

    flow = gradient_flow(model, (inputs, targets))      # ||dL_T/dh_t|| for t = T..1, per layer
    print(flow.summary())                               # "lstm: gradient falls by 10^1.5 over 49 steps (...)"
    x, y = adding_problem(64, 100)                      # Hochreiter & Schmidhuber's adding problem
    acts = text_activations(lm.model, lm.vocab, text)   # every unit and gate after every symbol
    rank_units(acts.signals, text_properties(acts.pieces))   # which units track quotes, brackets, ...
    html = render_html(acts, "c", layer=1, unit=17)     # a self-contained page, the text coloured by a unit

The command line: ``rnnkit diagnose``, ``rnnkit visualize``, ``rnnkit bench memory``.
"""

from rnnkit.diagnostics.activations import TextActivations, text_activations
from rnnkit.diagnostics.compare import compare_cells, lm_batch
from rnnkit.diagnostics.find_units import PROPERTIES, UnitMatch, rank_units, text_properties
from rnnkit.diagnostics.gradient_flow import GradientFlow, gradient_flow, plot_gradient_flow, write_csv
from rnnkit.diagnostics.memory_bench import BenchConfig, RunResult, run_benchmark, train_on_task
from rnnkit.diagnostics.memory_tasks import MemoryTask, adding_problem, recall_task
from rnnkit.diagnostics.trace import LayerTrace, Tracer, find_recurrent
from rnnkit.diagnostics.visualize import render_html

__all__ = [
    "PROPERTIES",
    "BenchConfig",
    "GradientFlow",
    "LayerTrace",
    "MemoryTask",
    "RunResult",
    "TextActivations",
    "Tracer",
    "UnitMatch",
    "adding_problem",
    "compare_cells",
    "find_recurrent",
    "gradient_flow",
    "lm_batch",
    "plot_gradient_flow",
    "rank_units",
    "recall_task",
    "render_html",
    "run_benchmark",
    "text_activations",
    "text_properties",
    "train_on_task",
    "write_csv",
]
