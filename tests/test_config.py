"""rnnkit.config: dataclasses from and to dicts, nested tables, flat aliases and derived keys."""

from __future__ import annotations

import pytest

from rnnkit.config import override, to_dict
from rnnkit.models import LanguageModelConfig, SequenceTaggerConfig


def test_a_nested_table_overrides_field_by_field():
    cfg = override(LanguageModelConfig(), {"embedding_size": 8, "rnn": {"cell": "gru"}}, "[model]")
    assert cfg.embedding_size == 8 and cfg.rnn.cell == "gru"
    assert cfg.rnn.hidden_size == LanguageModelConfig().rnn.hidden_size  # the rest keeps its default


def test_flat_recurrent_keys_are_the_old_spelling_of_the_nested_table():
    flat = override(LanguageModelConfig(), {"hidden_size": 12, "cell": "gru", "dropout": 0.1}, "[model]")
    nested = override(LanguageModelConfig(), {"rnn": {"hidden_size": 12, "cell": "gru"}, "dropout": 0.1}, "[model]")
    assert flat == nested and flat.dropout == 0.1  # dropout is the model's own key


def test_a_key_given_both_flat_and_nested_is_refused():
    with pytest.raises(ValueError, match=r"\[model\] gives \['cell'\] both flat and in \[model.rnn\]"):
        override(LanguageModelConfig(), {"cell": "gru", "rnn": {"cell": "lstm"}}, "[model]")


def test_derived_keys_are_refused_and_not_stored():
    with pytest.raises(ValueError, match=r"\[model.rnn\] key\(s\) \['input_size'\] are set by the model itself"):
        override(LanguageModelConfig(), {"rnn": {"input_size": 3}}, "[model]")
    stored = to_dict(SequenceTaggerConfig(char_features=True, char_vocab_size=5).validate())
    assert not {"input_size", "dropout", "batch_first"} & set(stored["rnn"])


def test_errors_name_the_nested_table():
    with pytest.raises(ValueError, match=r"config: \[model.rnn\] hidden_size: expected a positive integer, got 0"):
        override(LanguageModelConfig(), {"rnn": {"hidden_size": 0}}, "[model]")
    with pytest.raises(ValueError, match=r"unknown key\(s\) \['colour'\] in \[model.rnn\]"):
        override(LanguageModelConfig(), {"rnn": {"colour": 1}}, "[model]")


def test_the_model_derives_input_size_and_dropout():
    cfg = LanguageModelConfig.from_dict({"vocab_size": 7, "embedding_size": 0, "dropout": 0.25}).validate()
    assert (cfg.rnn.input_size, cfg.rnn.dropout) == (7, 0.25)  # one-hot inputs: V
    tagger = SequenceTaggerConfig(embedding_size=10, char_features=True, char_vocab_size=4, char_hidden_size=3)
    tagger.validate()
    assert tagger.rnn.input_size == 10 + 2 * 3 and tagger.char_rnn().input_size == tagger.char_embedding_size
    assert tagger.char_rnn().bidirectional and tagger.char_rnn().dropout == 0.0


def test_recurrent_init_is_reachable():
    cfg = LanguageModelConfig.from_dict({"vocab_size": 5, "rnn": {"recurrent_init": "uniform"}}).validate()
    assert cfg.rnn.recurrent_init == "uniform"
