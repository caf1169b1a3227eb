"""Task architectures: embedding + recurrent layers + head, each config nesting one
``RecurrentConfig`` (``rnn``), each model owning its loss, all keeping one contract
(``rnnkit.models.batch``): ``model(batch, state=None) -> ModelOutput(out, loss, state)``."""

import torch

from rnnkit.models.batch import IGNORE, ModelOutput, SequenceBatch, TaggedBatch, TokenBatch, TranslationBatch
from rnnkit.models.classifier import SequenceClassifier, SequenceClassifierConfig
from rnnkit.models.evaluating import evaluating
from rnnkit.models.language_model import LanguageModel, LanguageModelConfig, nats_to_bits
from rnnkit.models.rnn_settings import RNN_DERIVED, ModelSettings
from rnnkit.models.tagger import SequenceTagger, SequenceTaggerConfig
from rnnkit.models.translator import Translator, TranslatorConfig

#: kind (stored in checkpoints) -> (model class, config class)
MODEL_KINDS = {
    LanguageModel.kind: (LanguageModel, LanguageModelConfig),
    SequenceClassifier.kind: (SequenceClassifier, SequenceClassifierConfig),
    SequenceTagger.kind: (SequenceTagger, SequenceTaggerConfig),
    Translator.kind: (Translator, TranslatorConfig),
}


def build_model(kind: str, config: dict, state: dict[str, torch.Tensor] | None = None):
    """Rebuild a model from the kind and config dict stored in a checkpoint (the recurrent
    settings nested under "rnn", or flat as rnnkit 0.1 stored them); with ``state``, its weights
    too, after checking every key, shape and dtype against the model (see ``model_layout``).

    Raises:
        ValueError: an unknown kind, a config its class refuses, or a ``state`` that does not fit,
            in one line.
    """
    model_cls, model_config = _config(kind, config)
    if state is not None:
        mismatch = layout_mismatch(model_layout(kind, config), {k: (v.dtype, tuple(v.shape)) for k, v in state.items()})
        if mismatch:
            raise ValueError(f"model: the weights do not fit a {kind} of this config: {mismatch}")
    model = model_cls(model_config)
    if state is not None:
        model.load_state_dict(state)
    return model


def model_layout(kind: str, config: dict) -> dict[str, tuple[torch.dtype, tuple[int, ...]]]:
    """{state_dict key: (dtype, shape)} of the model ``build_model(kind, config)`` would build,
    found by building it on the meta device (nothing is allocated, whatever the sizes say).

    Raises:
        ValueError: as build_model; also a config whose sizes no tensor can have.
    """
    model_cls, model_config = _config(kind, config)
    try:
        with torch.device("meta"):
            model = model_cls(model_config)
    except (RuntimeError, OverflowError, TypeError) as e:  # e.g. "Storage size calculation overflowed"
        detail = " ".join(str(e).split())[:200]
        raise ValueError(f"model: a {kind} of this config cannot be built ({detail})") from None
    return {k: (v.dtype, tuple(v.shape)) for k, v in model.state_dict().items()}


def layout_mismatch(expected: dict, actual: dict) -> str:
    """'' when ``actual`` ({key: (dtype, shape)}) is exactly ``expected``, else what differs first."""
    missing, extra = sorted(set(expected) - set(actual)), sorted(set(actual) - set(expected))
    if missing:
        return f"tensor {missing[0]!r} is missing ({len(missing)} missing in all)"
    if extra:
        return f"tensor {extra[0]!r} is not part of the model ({len(extra)} unexpected in all)"
    for key, (dtype, shape) in expected.items():
        got_dtype, got_shape = actual[key]
        if tuple(got_shape) != tuple(shape):
            return f"tensor {key!r} has shape {list(got_shape)}, expected {list(shape)}"
        if got_dtype != dtype:
            return f"tensor {key!r} has dtype {got_dtype}, expected {dtype}"
    return ""


def _config(kind: str, config: dict):
    if not isinstance(kind, str) or kind not in MODEL_KINDS:
        raise ValueError(f"model: expected a kind in {sorted(MODEL_KINDS)}, got {kind!r:.80}")
    if not isinstance(config, dict):
        raise ValueError(f"model: expected the config as a dict, got {type(config).__name__}")
    model_cls, config_cls = MODEL_KINDS[kind]
    try:
        model_config = config_cls.from_dict(config, "the checkpoint's [model]").validate()
    except (ValueError, TypeError) as e:
        raise ValueError(f"model: {' '.join(str(e).split()).removeprefix('config: ')}") from None
    return model_cls, model_config


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
    "TranslationBatch",
    "Translator",
    "TranslatorConfig",
    "SequenceClassifier",
    "SequenceClassifierConfig",
    "SequenceTagger",
    "SequenceTaggerConfig",
    "build_model",
    "evaluating",
    "layout_mismatch",
    "model_layout",
    "nats_to_bits",
]
