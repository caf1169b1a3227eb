"""Embedding dropout in the language model (issue 18): whole word types dropped for a batch, every
occurrence alike, kept rows scaled by 1/(1-p), the identity in eval, reproducible from the seed,
zero gradient for a dropped word; its bad values; the CLI flag."""

from __future__ import annotations

import json

import pytest
import torch

from rnnkit.layers import RecurrentConfig
from rnnkit.models import LanguageModel, LanguageModelConfig

V, E = 50, 8


def model(p: float, **kw) -> LanguageModel:
    torch.manual_seed(0)
    rnn = RecurrentConfig("gru", hidden_size=8)
    return LanguageModel(LanguageModelConfig(vocab_size=V, embedding_size=E, embedding_dropout=p, rnn=rnn, **kw))


def test_whole_words_are_dropped_and_the_rest_scaled():
    m = model(0.3).train()
    tokens = torch.arange(V).repeat(4, 3)  # (4, 150): every word many times
    torch.manual_seed(1)
    out = m._embed(tokens)
    plain = m.embedding(tokens)
    for w in range(V):
        rows = out[tokens == w]  # every occurrence of word w
        if rows.abs().sum() == 0:
            continue
        assert torch.allclose(rows, plain[tokens == w] / 0.7)  # kept: scaled, everywhere alike
    dropped = sum(bool(out[tokens == w].abs().sum() == 0) for w in range(V))
    assert 0 < dropped < V  # some words dropped, not all


def test_the_rate_is_p():
    m = LanguageModel(
        LanguageModelConfig(
            vocab_size=4000, embedding_size=2, embedding_dropout=0.25, rnn=RecurrentConfig(hidden_size=4)
        )
    ).train()
    torch.manual_seed(2)
    out = m._embed(torch.arange(4000)[None])
    rate = (out.abs().sum(-1) == 0).float().mean().item()
    assert abs(rate - 0.25) < 4 * (0.25 * 0.75 / 4000) ** 0.5


def test_eval_and_zero_are_the_plain_embedding():
    tokens = torch.randint(0, V, (3, 7))
    assert torch.equal(model(0.4).eval()._embed(tokens), model(0.4).embedding(tokens))
    assert torch.equal(model(0.0).train()._embed(tokens), model(0.0).embedding(tokens))


def test_same_seed_same_mask_and_a_dropped_word_gets_no_gradient():
    m = model(0.5).train()
    tokens = torch.arange(V)[None]
    torch.manual_seed(3)
    a = m._embed(tokens)
    torch.manual_seed(3)
    b = m._embed(tokens)
    assert torch.equal(a, b)
    a.sum().backward()
    dropped = a[0].abs().sum(-1) == 0
    assert bool(dropped.any()) and torch.equal(m.embedding.weight.grad[dropped], torch.zeros(int(dropped.sum()), E))
    assert bool((m.embedding.weight.grad[~dropped] != 0).all())


@pytest.mark.parametrize(
    "kw, message",
    [
        ({"embedding_dropout": 1.0}, "model: expected embedding_dropout in [0, 1), got 1.0"),
        ({"embedding_dropout": float("nan")}, "model: expected embedding_dropout in [0, 1), got nan"),
        ({"embedding_dropout": 0.1, "embedding_size": 0},
         "model: expected embedding_size > 0 with embedding_dropout (one-hot inputs have no embedding)"),
    ],
)  # fmt: skip
def test_bad_values_are_refused(kw, message):
    config = {"vocab_size": V, "embedding_size": E, **kw}
    with pytest.raises(ValueError) as e:
        LanguageModel(LanguageModelConfig(**config))
    assert str(e.value) == message


def test_the_cli_flag_reaches_the_model(tmp_path):
    from tests.cli._harness import cli

    (tmp_path / "t.txt").write_text("the cat sat on the mat and the dog sat on the log\n" * 30)
    run = ["--max-steps", "3", "--no-progress", "--device", "cpu", "--hidden-size", "12", "--tokens", "word"]
    code, _, err = cli("train", tmp_path / "t.txt", "--embedding-dropout", "0.1", "--sample-length", "0",
                       "--run-dir", tmp_path / "r", *run)  # fmt: skip
    assert code == 0, err
    assert json.loads((tmp_path / "r" / "config.json").read_text())["model"]["embedding_dropout"] == 0.1
