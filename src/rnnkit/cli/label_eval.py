"""``rnnkit eval`` for classifiers and taggers, and the report at the end of their training.

Classifier: accuracy, macro-F1, per-class precision / recall / F1, the confusion matrix (printed,
and saved as a PNG heatmap). Regressor: mean squared error and RMSE. Tagger: token accuracy,
per-tag precision / recall / F1, and the accuracy on words outside the training vocabulary.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from rnnkit.cli.options import override
from rnnkit.data.prepare_tasks import prepare_classification, prepare_tagging, read_examples, read_sentences
from rnnkit.data.task_config import ClassifyDataConfig, TagDataConfig
from rnnkit.infer import LoadedClassifier, LoadedTagger, load
from rnnkit.infer.metrics import format_report, plot_confusion


def report_classifier(checkpoint, examples, where: str, out: Callable[[str], None], png=None, as_json=False) -> dict:
    clf = load(checkpoint, expect="sequence_classifier")
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


def report_tagger(checkpoint, sentences, where: str, out: Callable[[str], None], as_json=False) -> dict:
    tagger = load(checkpoint, expect="sequence_tagger")
    result = tagger.evaluate(sentences)
    out(json.dumps(result) if as_json else format_report(result, title=where))
    return result


def run_eval(args, loaded) -> int:
    """``rnnkit eval`` of a classifier or tagger checkpoint (called by rnnkit.cli.eval)."""
    stored = loaded.meta["config"]
    out = print
    if isinstance(loaded, LoadedClassifier):
        data_cfg = override(ClassifyDataConfig(), stored["data"], "checkpoint [data]")
        split = _one_split(args) if not args.data else ""
        if args.data:
            examples, where = read_examples(data_cfg, args.data), ", ".join(args.data)
        else:
            regress = loaded.regress
            examples, where = (
                prepare_classification(data_cfg, stored["source"], regress).examples[split],
                f"the {split} split",
            )
            if not len(examples):
                raise ValueError(
                    f"eval: the stored {split} split is empty; expected a split with examples, or --data FILE"
                )
        name = Path(args.data[0]).name.split(".")[0] if args.data else split
        png = Path(args.confusion) if args.confusion else _beside(args.checkpoint, f"confusion_{name}.png")
        result = loaded.evaluate(examples)
        _print_classifier(loaded, result, where, out, None if loaded.regress else png, args.json)
        return 0
    assert isinstance(loaded, LoadedTagger)
    data_cfg = override(TagDataConfig(), stored["data"], "checkpoint [data]")
    if args.data:
        sentences, where = read_sentences(data_cfg, args.data), ", ".join(args.data)
    else:
        split = _one_split(args)
        sentences, where = prepare_tagging(data_cfg, stored["source"]).sentences[split], f"the {split} split"
        if not len(sentences):
            raise ValueError(
                f"eval: the stored {split} split is empty; expected a split with sentences, or --data FILE"
            )
    result = loaded.evaluate(sentences)
    out(json.dumps(result) if args.json else format_report(result, title=where))
    return 0


def _one_split(args) -> str:
    if len(args.split) != 1:
        raise ValueError(f"eval: expected one --split for a classifier or tagger, got {','.join(args.split)}")
    return args.split[0]


def _beside(checkpoint, name: str) -> Path:
    """A file in the checkpoint's run directory."""
    base = Path(checkpoint)
    return (base if base.is_dir() else base.parent) / name
