"""The translation task (``rnnkit train translate``, ``translate``, ``eval``): an encoder-decoder with attention.

config.py     TranslateDataConfig: pair tables / aligned files, word or subword tokens, length filter
prepare.py    prepare_translation: files -> segmenters, two vocabularies, encoded splits
training.py   TranslationTask (the trainer's view: bucketed padded pairs), translate_ids, teacher_forced_nll
loaded.py     LoadedTranslator: translate, nbest, hypotheses
report.py     the end-of-training report and ``rnnkit eval`` (BLEU, chrF, perplexity, examples)
spec.py       TRANSLATE: the spec that ties them to the run driver; model: ``rnnkit.models.Translator``
"""

from rnnkit.tasks.translate.config import TranslateDataConfig
from rnnkit.tasks.translate.loaded import LoadedTranslator
from rnnkit.tasks.translate.spec import TRANSLATE, TranslationSpec
from rnnkit.tasks.translate.training import TranslationTask, translate_ids

__all__ = [
    "TRANSLATE",
    "LoadedTranslator",
    "TranslateDataConfig",
    "TranslationSpec",
    "TranslationTask",
    "translate_ids",
]
