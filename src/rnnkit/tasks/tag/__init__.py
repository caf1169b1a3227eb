"""The tagging task (``rnnkit train tag``, ``tag``, ``eval``): one tag per token.

config.py     TagDataConfig: CoNLL-U / columns, tag column, word dropout
prepare.py    prepare_tagging: files -> word and character vocabularies, tags, splits
training.py   TaggingTask (the trainer's view: padded sentences, word dropout), predict_tags
loaded.py     LoadedTagger: tag, evaluate
report.py     the end-of-training report and ``rnnkit eval`` (accuracy, per-tag F1, unseen words)
spec.py       TAG: the spec that ties them to the run driver; model: ``rnnkit.models.SequenceTagger``
"""

from rnnkit.tasks.tag.config import TagDataConfig
from rnnkit.tasks.tag.loaded import LoadedTagger
from rnnkit.tasks.tag.spec import TAG, TaggingSpec
from rnnkit.tasks.tag.training import EncodedSentences, TaggingTask, predict_tags, word_dropout_probs

__all__ = [
    "TAG",
    "EncodedSentences",
    "LoadedTagger",
    "TaggingSpec",
    "TaggingTask",
    "TagDataConfig",
    "predict_tags",
    "word_dropout_probs",
]
