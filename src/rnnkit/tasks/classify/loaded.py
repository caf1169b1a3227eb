"""A trained classifier (or regressor), ready to use: what ``rnnkit.load`` returns for its checkpoints.

    clf = rnnkit.load("runs/sst2")
    clf.predict(["a gorgeous film", "dull"])      # [("1", 0.97), ("0", 0.88)]
    clf.top(["Nakamura"], n=3)                    # [[("Japanese", 0.98), ...]]

Text is read exactly as in training: the checkpoint stores the vocabulary (with its tokenisation and
lower-casing), the label names and the data settings.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from rnnkit.data import LabelledExamples, TokenVocab
from rnnkit.infer.metrics import classification_report
from rnnkit.tasks.classify.prepare import encode_examples
from rnnkit.tasks.classify.training import predict_outputs
from rnnkit.tasks.summary import loaded_repr


@dataclass(repr=False)
class LoadedClassifier:
    model: torch.nn.Module
    vocab: TokenVocab
    labels: list[str]
    meta: dict
    device: torch.device

    def __repr__(self) -> str:  # LoadedClassifier(1x128 bidirectional gru, 18 labels, 57 chars, step 900, ...)
        unit = "chars" if self.meta["config"]["data"].get("tokens") == "char" else "words"
        labels = "regression" if self.regress else f"{len(self.labels)} labels"
        return loaded_repr(self, labels, f"{len(self.vocab)} {unit}")

    @property
    def regress(self) -> bool:
        return self.model.config.task == "regress"

    @property
    def max_length(self) -> int:
        return int(self.meta["config"]["data"].get("max_length", 0))

    def encode(self, texts: Sequence[str]) -> list[list[int]]:
        if isinstance(texts, str):
            raise ValueError("texts: expected a list of strings, got one str (wrap it in a list)")
        seqs = []
        for i, text in enumerate(texts):
            ids = self.vocab.encode(text)
            if not ids:
                raise ValueError(f"text {i + 1}: {text!r} has no tokens; expected at least one")
            seqs.append(ids[: self.max_length] if self.max_length else ids)
        return seqs

    def probabilities(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
        """(N, C) class probabilities (classifiers) or (N,) predicted values (regressors)."""
        out = predict_outputs(self.model, self.encode(texts), batch_size, self.device)
        return (out if self.regress else out.softmax(-1)).cpu().numpy()

    def top(self, texts: Sequence[str], n: int = 1, batch_size: int = 64) -> list[list[tuple[str, float]]]:
        """The ``n`` most probable labels of each text, with their probabilities (regression: the value)."""
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise ValueError(f"top: expected a positive integer, got {n!r}")
        probs = self.probabilities(texts, batch_size)
        if self.regress:
            return [[("value", float(v))] for v in probs]
        order = np.argsort(-probs, axis=1, kind="stable")[:, :n]
        return [[(self.labels[j], float(p[j])) for j in row] for p, row in zip(probs, order, strict=True)]

    def predict(self, texts: Sequence[str], batch_size: int = 64) -> list[tuple[str, float]]:
        return [row[0] for row in self.top(texts, 1, batch_size)]

    def evaluate(self, examples: LabelledExamples, batch_size: int = 64) -> dict:
        """Accuracy, macro-F1, per-class precision/recall/F1 and the confusion matrix (classifiers);
        mean squared error and RMSE (regressors). Unseen labels are a DataError naming the line."""
        seqs, targets = encode_examples(examples, self.vocab, self.labels, self.max_length, self.regress)
        out = predict_outputs(self.model, seqs, batch_size, self.device).cpu().numpy()
        if self.regress:
            mse = float(np.mean((out - targets) ** 2))
            return {"mse": mse, "rmse": mse**0.5, "examples": len(targets)}
        return classification_report(targets, out.argmax(-1), self.labels)
