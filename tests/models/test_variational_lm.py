"""The language model with the recurrent regularisers (issue 18): with ``variational`` its input and
output dropout are one mask per sequence too; evaluation and generation are untouched by them."""

from __future__ import annotations

import torch

from rnnkit.models import LanguageModel, LanguageModelConfig
from rnnkit.models.batch import TokenBatch


def model(**rnn) -> LanguageModel:
    torch.manual_seed(0)
    cfg = {"vocab_size": 11, "embedding_size": 6, "hidden_size": 6, "num_layers": 2, "dropout": 0.5, **rnn}
    return LanguageModel(LanguageModelConfig.from_dict(cfg))


def test_variational_input_and_output_dropout_hold_one_mask_over_time():
    m = model(variational=True).train()
    out = m.drop(torch.ones(9, 4, 6))  # time-major, as the model applies it
    assert bool((out == out[:1]).all()) and (out == 0).any() and (out != 0).any()
    plain = model().train().drop(torch.ones(9, 4, 6))
    assert not bool((plain == plain[:1]).all())


def test_regularisers_leave_evaluation_and_generation_alone():
    tokens = torch.randint(0, 11, (3, 8))
    regular = model(variational=True, weight_drop=0.5, embedding_dropout=0.2).eval()
    plain = model().eval()
    plain.load_state_dict(regular.state_dict())
    torch.testing.assert_close(regular(TokenBatch(tokens, None)).out, plain(TokenBatch(tokens, None)).out)
    state, steps = None, []
    for t in range(8):
        logits, state = regular.step(tokens[:, t], state)
        steps.append(logits)
    torch.testing.assert_close(torch.stack(steps, 1), regular(TokenBatch(tokens, None)).out)
