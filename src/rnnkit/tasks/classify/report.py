"""A classifier's report: ``rnnkit eval`` of its checkpoints, and the report at the end of training.

Classifier: accuracy, macro-F1, per-class precision / recall / F1, the confusion matrix (printed, and
saved as a PNG heatmap). Regressor: mean squared error and RMSE.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from rnnkit.config import override
from rnnkit.infer.metrics import format_report, plot_confusion
from rnnkit.tasks.classify.config import ClassifyDataConfig
from rnnkit.tasks.classify.loaded import LoadedClassifier
from rnnkit.tasks.classify.prepare import prepare_classification, read_examples
from rnnkit.tasks.digests import check_sources, check_vocab
from rnnkit.tasks.known import inherited
from rnnkit.tasks.labelled import beside, one_split
from rnnkit.tasks.spec import EvalRequest


def report_classifier(checkpoint, examples, where: str, out: Callable[[str], None], png=None, as_json=False) -> dict:
    from rnnkit.tasks.loading import load

    clf = load(checkpoint, expect="classify")
    result = clf.evaluate(examples)
    _print_classifier(clf, result, where, out, png, as_json)
    return result


def _print_classifier(clf: LoadedClassifier, result: dict, where: str, out, png, as_json: bool) -> None:
    if "confusion" in result and png is not None:
        plot_confusion(result["confusion"], clf.labels, png, title=f"confusion on {where}")
        result["confusion_png"] = str(png)
    if as_json:
        out(json.dumps(result))
    elif clf.regress:
        out(
            f"{where}: mean squared error {result['mse']:.4f}, rmse {result['rmse']:.4f} "
            f"({result['examples']:,} examples)"
        )
    else:
        out(format_report(result, title=where))
        if png is not None:
            out(f"confusion matrix heatmap: {png}")


def evaluate_classifier(loaded: LoadedClassifier, request: EvalRequest, out: Callable[[str], None]) -> None:
    """``rnnkit eval`` of a classifier (or regressor) checkpoint."""
    stored = loaded.meta["config"]
    data_cfg = override(ClassifyDataConfig(), stored["data"], "checkpoint [data]")
    split = one_split(request) if not request.data else ""
    if request.data:
        examples, where = read_examples(data_cfg, request.data), ", ".join(request.data)
    else:
        check_sources(stored)
        prepared = prepare_classification(data_cfg, stored["source"], loaded.regress, inherited(loaded.meta))
        check_vocab(prepared.vocab.to_dict(), loaded.meta["vocab"], stored["source"])
        examples, where = prepared.examples[split], f"the {split} split"
        if not len(examples):
            raise ValueError(f"eval: the stored {split} split is empty; expected a split with examples, or --data FILE")
    name = Path(request.data[0]).name.split(".")[0] if request.data else split
    png = Path(request.confusion) if request.confusion else beside(request.checkpoint, f"confusion_{name}.png")
    result = loaded.evaluate(examples)
    _print_classifier(loaded, result, where, out, None if loaded.regress else png, request.as_json)
