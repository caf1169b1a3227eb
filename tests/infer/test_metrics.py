"""Evaluation metrics: confusion matrices, classification / tagging reports checked against values
worked out by hand, the zero-division convention, input validation, the text rendering and the
confusion heatmap PNG."""

import json
import math
import re

import numpy as np
import pytest

from rnnkit.infer.metrics import (
    classification_report,
    confusion_matrix,
    format_report,
    plot_confusion,
    tagging_report,
)

LABELS = ["cat", "dog", "bird"]
# 8 examples, 3 classes. Confusion (rows true, columns predicted):
#   cat  [2, 1, 0]    dog [0, 3, 0]    bird [1, 0, 1]
Y_TRUE = [0, 0, 0, 1, 1, 1, 2, 2]
Y_PRED = [0, 0, 1, 1, 1, 1, 2, 0]


def close(a, b):
    return math.isclose(a, b, rel_tol=0, abs_tol=1e-12)


def naive_report(y_true, y_pred, c):
    """Per-class precision / recall / F1 by counting in plain Python (zero_division=0)."""
    out = []
    for k in range(c):
        tp = sum(t == k and p == k for t, p in zip(y_true, y_pred))
        predicted = sum(p == k for p in y_pred)
        support = sum(t == k for t in y_true)
        prec = tp / predicted if predicted else 0.0
        rec = tp / support if support else 0.0
        f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
        out.append((prec, rec, f1, support))
    return out


# --- confusion_matrix ---------------------------------------------------------------------------


def test_confusion_matrix_by_hand():
    cm = confusion_matrix(Y_TRUE, Y_PRED, 3)
    assert cm.dtype == np.int64
    assert cm.shape == (3, 3)
    assert cm.tolist() == [[2, 1, 0], [0, 3, 0], [1, 0, 1]]
    assert cm.sum() == 8


def test_confusion_matrix_accepts_numpy_and_unused_classes():
    cm = confusion_matrix(np.array([1, 1], dtype=np.uint8), np.array([1, 3]), 5)
    expected = np.zeros((5, 5), dtype=np.int64)
    expected[1, 1] = expected[1, 3] = 1
    np.testing.assert_array_equal(cm, expected)
    assert confusion_matrix([], [], 2).tolist() == [[0, 0], [0, 0]]


@pytest.mark.parametrize(
    "y_true, y_pred, c, message",
    [
        ([0, 1, 2], [0, 1], 3, "metrics: y_true and y_pred lengths; expected equal lengths, got 3 and 2"),
        ([0, 3, 1], [0, 1, 1], 3, "metrics: y_true[1]; expected a class id in [0, 3), got 3"),
        ([0, 1, 1], [0, 1, -1], 3, "metrics: y_pred[2]; expected a class id in [0, 3), got -1"),
        ([0.0, 1.0], [0, 1], 3, "metrics: y_true; expected integer class ids, got dtype float64"),
        ([[0, 1]], [0, 1], 3, "metrics: y_true; expected a 1-D sequence of class ids, got shape (1, 2)"),
        ([0], [0], 0, "metrics: num_classes; expected a positive integer, got 0"),
        ([0], [0], 2.0, "metrics: num_classes; expected a positive integer, got 2.0"),
    ],
)
def test_confusion_matrix_validation(y_true, y_pred, c, message):
    with pytest.raises(ValueError, match="^" + re.escape(message) + "$"):
        confusion_matrix(y_true, y_pred, c)


# --- classification_report ----------------------------------------------------------------------


def test_classification_report_by_hand():
    report = classification_report(Y_TRUE, Y_PRED, LABELS)
    # column sums (times predicted): cat 3, dog 4, bird 1; row sums (support): 3, 3, 2; diagonal: 2, 3, 1
    expected = {
        "cat": (2 / 3, 2 / 3, 2 / 3, 3),
        "dog": (3 / 4, 3 / 3, 2 * (3 / 4) * 1 / (3 / 4 + 1), 3),  # F1 = 6/7
        "bird": (1 / 1, 1 / 2, 2 * 1 * (1 / 2) / (1 + 1 / 2), 2),  # F1 = 2/3
    }
    assert set(report) == {"accuracy", "macro_f1", "examples", "per_class", "labels", "confusion"}
    assert close(report["accuracy"], 6 / 8)
    assert report["examples"] == 8
    assert report["labels"] == LABELS
    assert report["confusion"] == [[2, 1, 0], [0, 3, 0], [1, 0, 1]]
    assert list(report["per_class"]) == LABELS
    for label, (prec, rec, f1, support) in expected.items():
        row = report["per_class"][label]
        assert set(row) == {"precision", "recall", "f1", "support"}
        assert close(row["precision"], prec), label
        assert close(row["recall"], rec), label
        assert close(row["f1"], f1), label
        assert row["support"] == support
    assert close(expected["dog"][2], 6 / 7)
    assert close(report["macro_f1"], 46 / 63)  # (2/3 + 6/7 + 2/3) / 3


def test_classification_report_is_plain_json():
    report = classification_report(np.array(Y_TRUE), np.array(Y_PRED), tuple(LABELS))
    assert json.loads(json.dumps(report)) == report
    assert type(report["accuracy"]) is float and type(report["macro_f1"]) is float
    assert type(report["examples"]) is int
    assert isinstance(report["labels"], list)
    for row in report["per_class"].values():
        assert [type(row[k]) for k in ("precision", "recall", "f1", "support")] == [float, float, float, int]
    assert all(type(v) is int for line in report["confusion"] for v in line)


def test_zero_division_convention():
    # "b" is predicted but has no support: recall 0 (no support), precision 0 (0 of 1 right).
    # "c" has support but is never predicted: precision 0, recall 0.
    report = classification_report([0, 0, 2], [0, 1, 0], ["a", "b", "c"])
    a, b, c = (report["per_class"][k] for k in "abc")
    assert (b["precision"], b["recall"], b["f1"], b["support"]) == (0.0, 0.0, 0.0, 0)
    assert (c["precision"], c["recall"], c["f1"], c["support"]) == (0.0, 0.0, 0.0, 1)
    assert close(a["precision"], 1 / 2) and close(a["recall"], 1 / 2) and close(a["f1"], 1 / 2)
    assert close(report["macro_f1"], 1 / 6)
    assert not any(math.isnan(v) for row in report["per_class"].values() for v in row.values())


def test_macro_f1_counts_a_class_absent_from_both():
    # "a": p = 1, r = 1/2, F1 = 2/3;  "b": p = 1/2, r = 1, F1 = 2/3;  "c" never appears: F1 = 0
    report = classification_report([0, 0, 1], [0, 1, 1], ["a", "b", "c"])
    assert close(report["per_class"]["a"]["f1"], 2 / 3)
    assert close(report["per_class"]["b"]["f1"], 2 / 3)
    assert report["per_class"]["c"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 0}
    assert close(report["macro_f1"], 4 / 9)
    assert close(report["accuracy"], 2 / 3)


def test_perfect_predictions():
    report = classification_report([0, 1, 2, 1], [0, 1, 2, 1], LABELS)
    assert report["accuracy"] == 1.0 and report["macro_f1"] == 1.0
    assert all(row["f1"] == 1.0 for row in report["per_class"].values())


def test_random_reports_match_naive_counting():
    rng = np.random.default_rng(0)
    for trial in range(20):
        c = int(rng.integers(1, 7))
        n = int(rng.integers(1, 40))
        y_true, y_pred = rng.integers(0, c, n).tolist(), rng.integers(0, c, n).tolist()
        labels = [f"class{k}" for k in range(c)]
        report = classification_report(y_true, y_pred, labels)
        naive = naive_report(y_true, y_pred, c)
        for label, (prec, rec, f1, support) in zip(labels, naive):
            row = report["per_class"][label]
            assert close(row["precision"], prec) and close(row["recall"], rec) and close(row["f1"], f1), trial
            assert row["support"] == support
        assert close(report["macro_f1"], sum(x[2] for x in naive) / c)
        assert close(report["accuracy"], sum(t == p for t, p in zip(y_true, y_pred)) / n)


def test_against_sklearn():
    metrics = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(1)
    for _ in range(10):
        c, n = int(rng.integers(2, 6)), int(rng.integers(5, 50))
        y_true, y_pred = rng.integers(0, c, n), rng.integers(0, c, n)
        labels = [str(k) for k in range(c)]
        report = classification_report(y_true, y_pred, labels)
        ids = list(range(c))
        prec, rec, f1, support = metrics.precision_recall_fscore_support(y_true, y_pred, labels=ids, zero_division=0)
        for k, label in enumerate(labels):
            row = report["per_class"][label]
            assert close(row["precision"], prec[k]) and close(row["recall"], rec[k]) and close(row["f1"], f1[k])
            assert row["support"] == support[k]
        assert close(report["macro_f1"], metrics.f1_score(y_true, y_pred, labels=ids, average="macro", zero_division=0))
        assert close(report["accuracy"], metrics.accuracy_score(y_true, y_pred))
        assert report["confusion"] == metrics.confusion_matrix(y_true, y_pred, labels=ids).tolist()


@pytest.mark.parametrize(
    "y_true, y_pred, labels, message",
    [
        ([], [], ["a", "b"], "metrics: y_true; expected at least one example, got 0"),
        ([0], [0], [], "metrics: labels; expected at least one label, got none"),
        ([0], [0], ["a", "b", "a"], "metrics: labels; expected distinct labels, got duplicates ['a']"),
        ([0, 2], [0, 1], ["a", "b"], "metrics: y_true[1]; expected a class id in [0, 2), got 2"),
        ([0, 1], [0], ["a", "b"], "metrics: y_true and y_pred lengths; expected equal lengths, got 2 and 1"),
    ],
)
def test_classification_report_validation(y_true, y_pred, labels, message):
    with pytest.raises(ValueError, match="^" + re.escape(message) + "$"):
        classification_report(y_true, y_pred, labels)


# --- tagging_report -----------------------------------------------------------------------------

TAGS = ["DET", "NOUN", "VERB"]
TRUE_TAGS = [[0, 1, 2], [1, 1]]
PRED_TAGS = [[0, 2, 2], [1, 0]]
# flattened: true [0, 1, 2, 1, 1], pred [0, 2, 2, 1, 0]: right, wrong, right, right, wrong
# confusion: DET [1, 0, 0]  NOUN [1, 1, 1]  VERB [0, 0, 1]


def test_tagging_report_flattens_by_hand():
    report = tagging_report(TRUE_TAGS, PRED_TAGS, TAGS)
    assert set(report) == {"accuracy", "tokens", "macro_f1", "per_tag", "labels", "confusion"}
    assert close(report["accuracy"], 3 / 5)
    assert report["tokens"] == 5
    assert report["labels"] == TAGS
    assert report["confusion"] == [[1, 0, 0], [1, 1, 1], [0, 0, 1]]
    expected = {  # precision, recall, F1, support
        "DET": (1 / 2, 1.0, 2 / 3, 1),
        "NOUN": (1.0, 1 / 3, 1 / 2, 3),
        "VERB": (1 / 2, 1.0, 2 / 3, 1),
    }
    for tag, (prec, rec, f1, support) in expected.items():
        row = report["per_tag"][tag]
        assert close(row["precision"], prec) and close(row["recall"], rec) and close(row["f1"], f1), tag
        assert row["support"] == support
    assert close(report["macro_f1"], 11 / 18)  # (2/3 + 1/2 + 2/3) / 3
    flat = classification_report([0, 1, 2, 1, 1], [0, 2, 2, 1, 0], TAGS)
    assert flat["per_class"] == report["per_tag"] and flat["macro_f1"] == report["macro_f1"]
    assert json.loads(json.dumps(report)) == report


def test_tagging_report_oov_accuracy():
    # OOV tokens: positions 1 (wrong) and 3 (right) of the flattened sentences
    report = tagging_report(TRUE_TAGS, PRED_TAGS, TAGS, oov=[[False, True, False], [True, False]])
    assert report["oov_tokens"] == 2
    assert close(report["oov_accuracy"], 1 / 2)
    both_wrong = tagging_report(TRUE_TAGS, PRED_TAGS, TAGS, oov=[np.array([0, 1, 0]), [False, True]])
    assert (both_wrong["oov_tokens"], both_wrong["oov_accuracy"]) == (2, 0.0)
    none = tagging_report(TRUE_TAGS, PRED_TAGS, TAGS, oov=[[False] * 3, [False] * 2])
    assert none["oov_tokens"] == 0 and none["oov_accuracy"] is None
    assert json.loads(json.dumps(none)) == none


def test_tagging_report_empty_sentences_and_arrays():
    report = tagging_report([[], np.array([0, 1]), []], [[], [0, 0], np.array([], dtype=np.int64)], ["x", "y"])
    assert report["tokens"] == 2 and close(report["accuracy"], 1 / 2)


@pytest.mark.parametrize(
    "true_tags, pred_tags, oov, message",
    [
        (
            [[0, 1], [1, 1, 0]],
            [[0, 1], [1, 1]],
            None,
            "metrics: sentence 1 length; expected 3 predicted tags (as true tags), got 2",
        ),
        ([[0, 1], [1]], [[0, 1]], None, "metrics: pred_tags; expected 2 sentences (as in true_tags), got 1"),
        ([[0, 1]], [[0, 1]], [[True], [False]], "metrics: oov; expected 1 sentences (as in true_tags), got 2"),
        (
            [[0], [0, 1]],
            [[0], [0, 1]],
            [[True], [False]],
            "metrics: sentence 1 oov flags; expected 2 flags (as true tags), got 1",
        ),
        (
            [[0], [0, 1]],
            [[0], [0, 1]],
            [[True], [0, 2]],
            "metrics: sentence 1 oov flags; expected booleans, got int64 values",
        ),
        ([[0], [0, 5]], [[0], [0, 1]], None, "metrics: true_tags[1][1]; expected a class id in [0, 3), got 5"),
        ([[0], [0, 1]], [[0.5], [0, 1]], None, "metrics: pred_tags[0]; expected integer class ids, got dtype float64"),
        ([[], []], [[], []], None, "metrics: true_tags; expected at least one token, got 0"),
    ],
)
def test_tagging_report_validation(true_tags, pred_tags, oov, message):
    with pytest.raises(ValueError, match="^" + re.escape(message) + "$"):
        tagging_report(true_tags, pred_tags, TAGS, oov=oov)


# --- format_report ------------------------------------------------------------------------------


def test_format_classification_report():
    text = format_report(classification_report(Y_TRUE, Y_PRED, LABELS), title="dev set")
    lines = text.splitlines()
    assert lines[0] == "dev set"
    assert "accuracy 0.7500 (8 examples)" in lines
    assert "macro-F1 0.7302" in lines  # 46/63 = 0.73016
    assert not any("OOV" in line for line in lines)
    header = next(i for i, line in enumerate(lines) if line.startswith("label"))
    assert lines[header].split() == ["label", "precision", "recall", "F1", "support"]
    table = lines[header : header + 4]
    assert len({len(line) for line in table}) == 1  # aligned
    rows = {line.split()[0]: line.split()[1:] for line in table[1:]}
    assert rows["cat"] == ["0.6667", "0.6667", "0.6667", "3"]
    assert rows["dog"] == ["0.7500", "1.0000", "0.8571", "3"]
    assert rows["bird"] == ["1.0000", "0.5000", "0.6667", "2"]
    matrix = lines[header + 5 :]
    assert matrix[0].split()[-3:] == LABELS
    assert [line.split()[-3:] for line in matrix[1:4]] == [["2", "1", "0"], ["0", "3", "0"], ["1", "0", "1"]]
    assert [line.split()[0] for line in matrix[1:4]] == LABELS


def test_format_report_long_labels_and_many_classes():
    long = ["a_rather_long_label_name", "b"]
    text = format_report(classification_report([0, 1], [0, 0], long))
    lines = text.splitlines()
    assert lines[0].startswith("accuracy 0.5000 (2 examples)")  # no title line
    row = next(line for line in lines if line.startswith("a_rather_long_label_name "))
    assert row.split()[1:] == ["0.5000", "1.0000", "0.6667", "1"]
    # the matrix cuts labels to 12 characters
    assert any(line.split()[:1] == ["a_rather_lon"] for line in lines)
    assert sum("a_rather_long_label_name" in line for line in lines) == 1

    many = [f"c{k}" for k in range(31)]
    ids = list(range(31))
    lines = format_report(classification_report(ids, ids, many)).splitlines()
    assert not any("pred" in line for line in lines)  # no confusion matrix past 30 classes
    assert len(lines) == 2 + 1 + 1 + 31
    lines = format_report(classification_report(ids[:30], ids[:30], many[:30])).splitlines()
    assert any("pred" in line for line in lines)


def test_format_tagging_report_with_oov():
    report = tagging_report(TRUE_TAGS, PRED_TAGS, TAGS, oov=[[False, True, False], [True, False]])
    lines = format_report(report, title="tagger").splitlines()
    assert lines[:4] == ["tagger", "accuracy 0.6000 (5 tokens)", "macro-F1 0.6111", "OOV accuracy 0.5000 (2 tokens)"]
    rows = {line.split()[0]: line.split()[1:] for line in lines if line.split()[:1] and line.split()[0] in TAGS}
    assert rows["NOUN"] == ["1.0000", "0.3333", "0.5000", "3"]
    none = tagging_report(TRUE_TAGS, PRED_TAGS, TAGS, oov=[[False] * 3, [False] * 2])
    assert "OOV accuracy n/a (0 tokens)" in format_report(none).splitlines()


# --- plot_confusion -----------------------------------------------------------------------------


def read_png(path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.image

    data = path.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    return matplotlib.image.imread(path)


def test_plot_confusion_two_classes(tmp_path):
    report = classification_report([0, 0, 1], [0, 1, 1], ["neg", "pos"])
    target = tmp_path / "plots" / "nested" / "confusion.png"
    out = plot_confusion(report["confusion"], report["labels"], target, title="sentiment")
    assert out == target
    image = read_png(target)
    height, width = image.shape[:2]
    assert abs(height - 400) <= 2 and abs(width - 400) <= 2  # 4 x 4 inches at 100 dpi
    assert float(image[..., :3].std()) > 0.01  # not blank
    assert sorted(p.name for p in target.parent.iterdir()) == ["confusion.png"]


def test_plot_confusion_eighteen_classes_counts_and_overwrite(tmp_path):
    rng = np.random.default_rng(2)
    labels = [f"tag_{k}_with_a_longish_name" for k in range(18)]
    y_true = rng.integers(0, 18, 500)
    y_pred = np.where(rng.random(500) < 0.7, y_true, rng.integers(0, 18, 500))
    cm = confusion_matrix(y_true, y_pred, 18)
    target = tmp_path / "cm.png"
    target.write_bytes(b"old")
    out = plot_confusion(cm, labels, str(target), normalize=False)
    assert out == target
    height, width = read_png(target).shape[:2]
    assert abs(height - 1010) <= 2 and abs(width - 1010) <= 2  # (0.45 * 18 + 2) inches at 100 dpi
    plot_confusion(cm, labels, target)  # normalised, written over the first
    assert read_png(target).shape[:2] == (height, width)
    assert [p.name for p in tmp_path.iterdir()] == ["cm.png"]


def test_plot_confusion_empty_rows_and_many_classes(tmp_path):
    cm = np.zeros((3, 3), dtype=np.int64)
    cm[0, 0] = 4  # rows 1 and 2 have no support: their rate is 0, not NaN
    read_png(plot_confusion(cm, ["a", "b", "c"], tmp_path / "sparse.png"))
    ids = np.arange(35)
    big = confusion_matrix(ids, ids, 35)
    read_png(plot_confusion(big, [str(k) for k in ids], tmp_path / "big.png"))  # no annotations past 30
    assert sorted(p.name for p in tmp_path.iterdir()) == ["big.png", "sparse.png"]


@pytest.mark.parametrize(
    "confusion, labels, message",
    [
        ([[1, 0, 0], [0, 1, 0]], ["a", "b"], "metrics: confusion; expected a square (C, C) matrix, got shape (2, 3)"),
        ([[1, 0], [0, 1]], ["a", "b", "c"], "metrics: confusion; expected 3 rows (one per label), got 2"),
        ([[1, -1], [0, 1]], ["a", "b"], "metrics: confusion; expected non-negative finite counts, got other values"),
    ],
)
def test_plot_confusion_validation(tmp_path, confusion, labels, message):
    with pytest.raises(ValueError, match="^" + re.escape(message) + "$"):
        plot_confusion(confusion, labels, tmp_path / "x.png")
    assert list(tmp_path.iterdir()) == []
