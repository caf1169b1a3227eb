"""rnnkit.tasks: one spec per task (language modelling, classification, tagging), registered by
name, the one run driver they all train through, and ``load`` for inference.

    spec.py       TaskSpec: configs, data preparation, model build, metadata, loaded model, reports
    registry.py   TASKS: name -> spec ("lm", "classify", "tag")
    meta.py       RunMeta: the checkpoint metadata of a run, and the migration of older layouts
    driver.py     train / resume: the one run driver
    loading.py    load(path): a checkpoint to its task's loaded-model class
    lm*.py, classify*.py, tag*.py, labelled_*.py: each task's configs, data, trainer task, inference
"""

from rnnkit.tasks.classify_training import ClassificationTask, balanced_weights, predict_outputs
from rnnkit.tasks.driver import resume, train
from rnnkit.tasks.labelled_config import ClassifyDataConfig, TagDataConfig
from rnnkit.tasks.labelled_loaded import LoadedClassifier, LoadedTagger
from rnnkit.tasks.lm_config import DataConfig
from rnnkit.tasks.lm_loaded import LoadedLanguageModel, loss_report
from rnnkit.tasks.lm_training import LanguageModelTask, stream_loss
from rnnkit.tasks.loading import load, task_of
from rnnkit.tasks.meta import META_VERSION, RunMeta, migrate
from rnnkit.tasks.registry import TASKS, task_named
from rnnkit.tasks.spec import Built, EvalRequest, Finished, TaskSpec
from rnnkit.tasks.tag_training import EncodedSentences, TaggingTask, predict_tags, word_dropout_probs

__all__ = [
    "META_VERSION",
    "TASKS",
    "Built",
    "ClassificationTask",
    "ClassifyDataConfig",
    "DataConfig",
    "EncodedSentences",
    "EvalRequest",
    "Finished",
    "LanguageModelTask",
    "LoadedClassifier",
    "LoadedLanguageModel",
    "LoadedTagger",
    "RunMeta",
    "TagDataConfig",
    "TaggingTask",
    "TaskSpec",
    "balanced_weights",
    "load",
    "loss_report",
    "migrate",
    "predict_outputs",
    "predict_tags",
    "resume",
    "stream_loss",
    "task_named",
    "task_of",
    "train",
    "word_dropout_probs",
]
