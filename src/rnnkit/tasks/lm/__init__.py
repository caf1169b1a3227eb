"""The language-model task (``rnnkit train``, ``sample``, ``eval``): predict token t+1 from tokens 1..t.

config.py     DataConfig: reading, tokens (char / word / lines), splits, B and T
prepare.py    prepare_corpus: files -> vocabulary + id splits
training.py   LanguageModelTask (the trainer's view: TBPTT windows, carried state), stream_loss
loaded.py     LoadedLanguageModel: generate, next-token distributions, evaluate
evaluate.py   ``rnnkit eval``: nats, bits and perplexity on stored splits or files
spec.py       LM: the spec that ties them to the run driver; model: ``rnnkit.models.LanguageModel``
"""

from rnnkit.tasks.lm.config import DataConfig
from rnnkit.tasks.lm.loaded import LoadedLanguageModel, loss_report
from rnnkit.tasks.lm.spec import BUNDLED, DEMO, LM, LanguageModelSpec
from rnnkit.tasks.lm.training import LanguageModelTask, stream_loss

__all__ = [
    "BUNDLED",
    "DEMO",
    "LM",
    "DataConfig",
    "LanguageModelSpec",
    "LanguageModelTask",
    "LoadedLanguageModel",
    "loss_report",
    "stream_loss",
]
