"""Task architectures: embedding + recurrent layers + head, each config nesting one
``RecurrentConfig`` (``rnn``), each model owning its loss, all keeping one contract
(``rnnkit.models.batch``): ``model(batch, state=None) -> ModelOutput(out, loss, state)``."""

from rnnkit.models.batch import ModelOutput, SequenceBatch, TaggedBatch, TokenBatch
from rnnkit.models.classifier import SequenceClassifier, SequenceClassifierConfig
from rnnkit.models.evaluating import evaluating
from rnnkit.models.language_model import LanguageModel, LanguageModelConfig, nats_to_bits
from rnnkit.models.rnn_settings import RNN_DERIVED, ModelSettings
from rnnkit.models.tagger import IGNORE, SequenceTagger, SequenceTaggerConfig

#: kind (stored in checkpoints) -> (model class, config class)
MODEL_KINDS = {
    LanguageModel.kind: (LanguageModel, LanguageModelConfig),
    SequenceClassifier.kind: (SequenceClassifier, SequenceClassifierConfig),
    SequenceTagger.kind: (SequenceTagger, SequenceTaggerConfig),
}


def build_model(kind: str, config: dict):
    """Rebuild a model from the kind and config dict stored in a checkpoint (the recurrent
    settings nested under "rnn", or flat as rnnkit 0.1 stored them)."""
    if kind not in MODEL_KINDS:
        raise ValueError(f"model: expected a kind in {sorted(MODEL_KINDS)}, got {kind!r}")
    model_cls, config_cls = MODEL_KINDS[kind]
    try:
        model_config = config_cls.from_dict(config, "the checkpoint's [model]")
    except ValueError as e:
        raise ValueError(f"model: {str(e).removeprefix('config: ')}") from None
    return model_cls(model_config)


__all__ = [
    "IGNORE",
    "MODEL_KINDS",
    "RNN_DERIVED",
    "LanguageModel",
    "LanguageModelConfig",
    "ModelOutput",
    "ModelSettings",
    "SequenceBatch",
    "TaggedBatch",
    "TokenBatch",
    "SequenceClassifier",
    "SequenceClassifierConfig",
    "SequenceTagger",
    "SequenceTaggerConfig",
    "build_model",
    "evaluating",
    "nats_to_bits",
]
