"""The classification task (``rnnkit train classify``, ``predict``, ``eval``): one label (or number) per sequence.

config.py     ClassifyDataConfig: tables / per-class files, tokens, columns, class weights
prepare.py    prepare_classification: files -> vocabulary, labels, encoded splits
training.py   ClassificationTask (the trainer's view: bucketed padded batches), predict_outputs
loaded.py     LoadedClassifier: predict, top, probabilities, evaluate
report.py     the end-of-training report and ``rnnkit eval`` (metrics, confusion heatmap)
spec.py       CLASSIFY: the spec that ties them to the run driver; model: ``rnnkit.models.SequenceClassifier``
"""

from rnnkit.tasks.classify.config import ClassifyDataConfig
from rnnkit.tasks.classify.loaded import LoadedClassifier
from rnnkit.tasks.classify.spec import CLASSIFY, ClassificationSpec
from rnnkit.tasks.classify.training import ClassificationTask, balanced_weights, predict_outputs

__all__ = [
    "CLASSIFY",
    "ClassificationSpec",
    "ClassificationTask",
    "ClassifyDataConfig",
    "LoadedClassifier",
    "balanced_weights",
    "predict_outputs",
]
