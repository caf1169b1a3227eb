"""Using trained models: loading, sampling, decoding, evaluation."""

from rnnkit.infer.generate import LoadedLanguageModel, loss_report
from rnnkit.infer.labelers import LoadedClassifier, LoadedTagger
from rnnkit.infer.loading import load
from rnnkit.infer.sampling import check_sampling, next_token_probs, sample_next

__all__ = [
    "LoadedClassifier",
    "LoadedLanguageModel",
    "LoadedTagger",
    "check_sampling",
    "load",
    "loss_report",
    "next_token_probs",
    "sample_next",
]
