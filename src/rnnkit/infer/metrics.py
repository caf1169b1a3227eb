"""Evaluation metrics for classifiers and taggers: confusion matrices, per-class precision / recall /
F1 reports (plain JSON-able dicts), a text rendering of them, and a confusion heatmap as a PNG.

Conventions follow scikit-learn with ``zero_division=0``: the precision of a class that is never
predicted is 0.0, the recall of a class with no support is 0.0, and macro-F1 is the unweighted mean
of the per-class F1 over every label given (a class absent from both truth and predictions counts as
F1 = 0)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from rnnkit.checkpoint.atomic import write_figure

_MAX_MATRIX = 30  # above this many classes: no confusion matrix in the text, no cell annotations in the plot
_LABEL_CHARS = 12  # labels are cut to this many characters in the confusion matrix


def _ids(name: str, values, num_classes: int) -> np.ndarray:
    """A 1-D int64 array of class ids in [0, num_classes)."""
    arr = np.asarray(values)
    if arr.size == 0:
        return np.zeros(0, dtype=np.int64)
    if arr.ndim != 1:
        raise ValueError(f"metrics: {name}; expected a 1-D sequence of class ids, got shape {tuple(arr.shape)}")
    if arr.dtype.kind not in "iu":
        raise ValueError(f"metrics: {name}; expected integer class ids, got dtype {arr.dtype}")
    bad = np.flatnonzero((arr < 0) | (arr >= num_classes))
    if bad.size:
        i = int(bad[0])
        raise ValueError(f"metrics: {name}[{i}]; expected a class id in [0, {num_classes}), got {int(arr[i])}")
    return arr.astype(np.int64)


def _check_labels(labels: Sequence[str]) -> list[str]:
    labels = list(labels)
    if not labels:
        raise ValueError("metrics: labels; expected at least one label, got none")
    if len(set(labels)) != len(labels):
        dupes = sorted({str(x) for x in labels if labels.count(x) > 1})
        raise ValueError(f"metrics: labels; expected distinct labels, got duplicates {dupes}")
    return [str(x) for x in labels]


def confusion_matrix(
    y_true: Sequence[int] | np.ndarray, y_pred: Sequence[int] | np.ndarray, num_classes: int
) -> np.ndarray:
    """(C, C) int64 counts: row = true class, column = predicted class."""
    if isinstance(num_classes, bool) or not isinstance(num_classes, (int, np.integer)) or num_classes < 1:
        raise ValueError(f"metrics: num_classes; expected a positive integer, got {num_classes!r}")
    c = int(num_classes)
    t, p = _ids("y_true", y_true, c), _ids("y_pred", y_pred, c)
    if len(t) != len(p):
        raise ValueError(f"metrics: y_true and y_pred lengths; expected equal lengths, got {len(t)} and {len(p)}")
    return np.bincount(t * c + p, minlength=c * c).reshape(c, c).astype(np.int64)


def _per_class(cm: np.ndarray, labels: list[str]) -> tuple[dict, float]:
    """{label: {precision, recall, f1, support}} and the macro-F1 over all labels."""
    tp = np.diag(cm).astype(np.float64)
    predicted = cm.sum(axis=0).astype(np.float64)
    support = cm.sum(axis=1)
    precision = np.divide(tp, predicted, out=np.zeros_like(tp), where=predicted > 0)
    recall = np.divide(tp, support, out=np.zeros_like(tp), where=support > 0)
    both = precision + recall
    f1 = np.divide(2 * precision * recall, both, out=np.zeros_like(tp), where=both > 0)
    per = {
        label: {
            "precision": float(precision[i]),
            "recall": float(recall[i]),
            "f1": float(f1[i]),
            "support": int(support[i]),
        }
        for i, label in enumerate(labels)
    }
    return per, float(f1.mean())


def classification_report(
    y_true: Sequence[int] | np.ndarray, y_pred: Sequence[int] | np.ndarray, labels: Sequence[str]
) -> dict:
    """Accuracy, macro-F1 and per-class precision / recall / F1 / support of one prediction per
    example; class id i is ``labels[i]``. Every value is a plain Python int / float / str / list."""
    labels = _check_labels(labels)
    cm = confusion_matrix(y_true, y_pred, len(labels))
    n = int(cm.sum())
    if n == 0:
        raise ValueError("metrics: y_true; expected at least one example, got 0")
    per, macro = _per_class(cm, labels)
    return {
        "accuracy": float(np.trace(cm) / n),
        "macro_f1": macro,
        "examples": n,
        "per_class": per,
        "labels": labels,
        "confusion": cm.tolist(),
    }


def tagging_report(
    true_tags: Sequence[Sequence[int]],
    pred_tags: Sequence[Sequence[int]],
    labels: Sequence[str],
    oov: Sequence[Sequence[bool]] | None = None,
) -> dict:
    """Token-level report of a sequence tagger: the sentences are flattened and scored as one
    classification. With ``oov`` (a flag per token, True for words unseen in training) the report
    also has "oov_accuracy" (None when there are no such tokens) and "oov_tokens"."""
    labels = _check_labels(labels)
    if len(pred_tags) != len(true_tags):
        raise ValueError(
            f"metrics: pred_tags; expected {len(true_tags)} sentences (as in true_tags), got {len(pred_tags)}"
        )
    if oov is not None and len(oov) != len(true_tags):
        raise ValueError(f"metrics: oov; expected {len(true_tags)} sentences (as in true_tags), got {len(oov)}")
    flat_true, flat_pred, flat_oov = [], [], []
    c = len(labels)
    for i, (t, p) in enumerate(zip(true_tags, pred_tags)):
        t, p = _ids(f"true_tags[{i}]", t, c), _ids(f"pred_tags[{i}]", p, c)
        if len(t) != len(p):
            raise ValueError(
                f"metrics: sentence {i} length; expected {len(t)} predicted tags (as true tags), got {len(p)}"
            )
        flat_true.append(t)
        flat_pred.append(p)
        if oov is not None:
            o = np.asarray(oov[i])
            if o.ndim != 1 and o.size:
                raise ValueError(f"metrics: oov[{i}]; expected a 1-D sequence of flags, got shape {tuple(o.shape)}")
            o = o.reshape(-1)
            if len(o) != len(t):
                raise ValueError(
                    f"metrics: sentence {i} oov flags; expected {len(t)} flags (as true tags), got {len(o)}"
                )
            if o.size and not (o.dtype.kind == "b" or (o.dtype.kind in "iu" and np.isin(o, (0, 1)).all())):
                raise ValueError(f"metrics: sentence {i} oov flags; expected booleans, got {o.dtype} values")
            flat_oov.append(o.astype(bool))
    t = np.concatenate(flat_true) if flat_true else np.zeros(0, dtype=np.int64)
    p = np.concatenate(flat_pred) if flat_pred else np.zeros(0, dtype=np.int64)
    cm = confusion_matrix(t, p, c)
    n = int(cm.sum())
    if n == 0:
        raise ValueError("metrics: true_tags; expected at least one token, got 0")
    per, macro = _per_class(cm, labels)
    report = {
        "accuracy": float(np.trace(cm) / n),
        "tokens": n,
        "macro_f1": macro,
        "per_tag": per,
        "labels": labels,
        "confusion": cm.tolist(),
    }
    if oov is not None:
        mask = np.concatenate(flat_oov) if flat_oov else np.zeros(0, dtype=bool)
        count = int(mask.sum())
        report["oov_accuracy"] = float((t[mask] == p[mask]).mean()) if count else None
        report["oov_tokens"] = count
    return report


def format_report(report: dict, title: str = "") -> str:
    """A report from classification_report / tagging_report as aligned text: the summary lines, a
    per-label table and (classification reports with at most 30 classes) the confusion matrix."""
    tagging = "per_tag" in report
    per = report["per_tag"] if tagging else report["per_class"]
    labels = list(report.get("labels", per))
    n, unit = (report["tokens"], "tokens") if tagging else (report["examples"], "examples")
    lines = [title] if title else []
    lines.append(f"accuracy {report['accuracy']:.4f} ({n} {unit})")
    lines.append(f"macro-F1 {report['macro_f1']:.4f}")
    if "oov_tokens" in report:
        acc = report.get("oov_accuracy")
        lines.append(f"OOV accuracy {'n/a' if acc is None else f'{acc:.4f}'} ({report['oov_tokens']} tokens)")
    width = max(len("label"), *(len(label) for label in labels))
    lines.append("")
    lines.append(f"{'label':<{width}}  {'precision':>9}  {'recall':>9}  {'F1':>9}  {'support':>7}")
    for label in labels:
        row = per[label]
        scores = "  ".join(f"{row[k]:>9.4f}" for k in ("precision", "recall", "f1"))
        lines.append(f"{label:<{width}}  {scores}  {row['support']:>7d}")
    confusion = report.get("confusion")
    if not tagging and confusion is not None and len(labels) <= _MAX_MATRIX:
        short = [label[:_LABEL_CHARS] for label in labels]
        corner = "true \\ pred"
        left = max(len(corner), *(len(s) for s in short))
        cells = max(*(len(s) for s in short), *(len(str(v)) for row in confusion for v in row))
        lines.append("")
        lines.append(f"{corner:<{left}}  " + "  ".join(f"{s:>{cells}}" for s in short))
        for s, row in zip(short, confusion):
            lines.append(f"{s:<{left}}  " + "  ".join(f"{int(v):>{cells}d}" for v in row))
    return "\n".join(lines) + "\n"


def plot_confusion(confusion, labels: Sequence[str], path, title: str = "", normalize: bool = True) -> Path:
    """A heatmap of a (C, C) confusion matrix (rows true, columns predicted) saved as a PNG; colour is
    the row-normalised rate when ``normalize``, else the count; cells are annotated with their counts
    when C <= 30. The file is written atomically (rnnkit.checkpoint.atomic), never through a symlink."""
    labels = _check_labels(labels)
    cm = np.asarray(confusion)
    if cm.ndim != 2 or cm.shape[0] != cm.shape[1]:
        raise ValueError(f"metrics: confusion; expected a square (C, C) matrix, got shape {tuple(cm.shape)}")
    if cm.shape[0] != len(labels):
        raise ValueError(f"metrics: confusion; expected {len(labels)} rows (one per label), got {cm.shape[0]}")
    if cm.dtype.kind not in "iuf" or (cm < 0).any() or not np.isfinite(cm).all():
        raise ValueError("metrics: confusion; expected non-negative finite counts, got other values")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    c = len(labels)
    rows = cm.sum(axis=1, keepdims=True).astype(np.float64)
    if normalize:
        values = np.divide(cm, rows, out=np.zeros(cm.shape, dtype=np.float64), where=rows > 0)
        vmax = 1.0
    else:
        values = cm.astype(np.float64)
        vmax = max(float(values.max()), 1.0)
    size = max(4.0, 0.45 * c + 2)
    fig, ax = plt.subplots(figsize=(size, size))
    try:
        image = ax.imshow(values, cmap="Blues", vmin=0.0, vmax=vmax, interpolation="nearest")
        fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04, label="rate (row-normalised)" if normalize else "count")
        ax.set_xticks(range(c))
        ax.set_yticks(range(c))
        ax.set_xticklabels(labels, rotation=45 if c <= _MAX_MATRIX else 90, ha="right", rotation_mode="anchor")
        ax.set_yticklabels(labels)
        ax.set_xlabel("predicted")
        ax.set_ylabel("true")
        ax.set_title(title or "confusion matrix")
        if c <= _MAX_MATRIX:
            fontsize = max(5, 10 - c // 5)
            for i in range(c):
                for j in range(c):
                    colour = "white" if values[i, j] > 0.5 * vmax else "black"
                    count = cm[i, j]
                    text = f"{int(count)}" if float(count).is_integer() else f"{count:.3g}"
                    ax.text(j, i, text, ha="center", va="center", color=colour, fontsize=fontsize)
        fig.tight_layout()
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    except BaseException:
        plt.close(fig)
        raise
    return write_figure(fig, path, dpi=100)  # atomic, never through a symlink; closes the figure
