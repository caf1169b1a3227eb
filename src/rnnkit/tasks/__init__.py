"""rnnkit.tasks: one spec per task (language modelling, classification, tagging), registered by
name, the one run driver they all train through, and ``load`` for inference.

    spec.py       TaskSpec: configs, data preparation, model build, metadata, loaded model, reports
    registry.py   TASKS: name -> spec ("lm", "classify", "tag")
    meta.py       RunMeta: the checkpoint metadata of a run, and the migration of older layouts
    driver.py     train / resume: the one run driver
    loading.py    load(path): a checkpoint to its task's loaded-model class (check_checkpoint: header checks)
    labelled.py   what classification and tagging share (data settings, splits)
    lm/, classify/, tag/   one package per task: config, prepare, training, loaded, report/evaluate, spec
"""

from rnnkit.tasks.classify.config import ClassifyDataConfig
from rnnkit.tasks.classify.loaded import LoadedClassifier
from rnnkit.tasks.classify.training import ClassificationTask, balanced_weights, predict_outputs
from rnnkit.tasks.driver import resume, train
from rnnkit.tasks.lm.config import DataConfig
from rnnkit.tasks.lm.loaded import LoadedLanguageModel, loss_report
from rnnkit.tasks.lm.training import LanguageModelTask, stream_loss
from rnnkit.tasks.loading import check_checkpoint, check_finite_weights, load, task_of
from rnnkit.tasks.meta import META_VERSION, RunMeta, migrate
from rnnkit.tasks.registry import TASKS, task_named
from rnnkit.tasks.spec import Built, EvalRequest, Finished, TaskSpec
from rnnkit.tasks.tag.config import TagDataConfig
from rnnkit.tasks.tag.loaded import LoadedTagger
from rnnkit.tasks.tag.training import EncodedSentences, TaggingTask, predict_tags, word_dropout_probs

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
    "check_checkpoint",
    "check_finite_weights",
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
