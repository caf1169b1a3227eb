"""Task architectures: embedding + recurrent layers + head, behind one contract,
``forward(inputs, state, targets) -> (out, loss, state)``."""

from rnnkit.models.classifier import SequenceClassifier, SequenceClassifierConfig
from rnnkit.models.classify_task import ClassificationTask, balanced_weights, predict_outputs
from rnnkit.models.language_model import LanguageModel, LanguageModelConfig, nats_to_bits
from rnnkit.models.lm_task import LanguageModelTask, stream_loss
from rnnkit.models.tag_task import EncodedSentences, TaggingTask, predict_tags, word_dropout_probs
from rnnkit.models.tagger import SequenceTagger, SequenceTaggerConfig

#: kind (stored in checkpoints) -> (model class, config class)
MODEL_KINDS = {
    LanguageModel.kind: (LanguageModel, LanguageModelConfig),
    SequenceClassifier.kind: (SequenceClassifier, SequenceClassifierConfig),
    SequenceTagger.kind: (SequenceTagger, SequenceTaggerConfig),
}


def build_model(kind: str, config: dict):
    """Rebuild a model from the kind and config dict stored in a checkpoint."""
    if kind not in MODEL_KINDS:
        raise ValueError(f"model: expected a kind in {sorted(MODEL_KINDS)}, got {kind!r}")
    model_cls, config_cls = MODEL_KINDS[kind]
    known = set(config_cls.__dataclass_fields__)
    unknown = sorted(set(config) - known)
    if unknown:
        raise ValueError(f"model: unknown config keys {unknown}; expected some of {sorted(known)}")
    return model_cls(config_cls(**config))


__all__ = [
    "MODEL_KINDS",
    "ClassificationTask",
    "EncodedSentences",
    "SequenceTagger",
    "SequenceTaggerConfig",
    "TaggingTask",
    "balanced_weights",
    "predict_outputs",
    "predict_tags",
    "word_dropout_probs",
    "LanguageModel",
    "LanguageModelConfig",
    "LanguageModelTask",
    "SequenceClassifier",
    "SequenceClassifierConfig",
    "build_model",
    "nats_to_bits",
    "stream_loss",
]
