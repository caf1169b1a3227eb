"""Sampling: setting validation, the distribution that temperature / top-k / top-p define, greedy
choice, seeded determinism and empirical frequencies."""

import math
import re

import pytest
import torch

from rnnkit.infer import check_sampling, next_token_probs, sample_next


def raises(msg):
    return pytest.raises(ValueError, match=re.escape(msg))


@pytest.mark.parametrize("temperature", [0, 0.0, -1.0, math.inf, math.nan, "1"])
def test_check_temperature(temperature):
    with raises(f"temperature: expected a number > 0 (lower = more conservative), got {temperature!r}"):
        check_sampling(temperature=temperature)


@pytest.mark.parametrize("top_k", [-1, 1.5, True])
def test_check_top_k(top_k):
    with raises(f"top-k: expected an integer >= 1 (0: no top-k filter), got {top_k!r}"):
        check_sampling(top_k=top_k)


@pytest.mark.parametrize("top_p", [0, 0.0, -0.5, 1.01, 2, math.nan])
def test_check_top_p(top_p):
    with raises(f"top-p: expected a number in (0, 1], got {top_p!r}"):
        check_sampling(top_p=top_p)


@pytest.mark.parametrize(
    "settings",
    [{}, {"temperature": 1e-3}, {"temperature": 5}, {"top_k": 1}, {"top_k": 0}, {"top_p": 1.0}, {"top_p": 1e-6}],
)
def test_check_accepts_valid_settings(settings):
    check_sampling(**settings)


LOGITS = torch.tensor([[2.0, 1.0, 0.5, -1.0, 0.0], [0.0, 3.0, -2.0, 1.0, 1.5]])  # (B, V)


def test_temperature_one_is_the_softmax():
    torch.testing.assert_close(next_token_probs(LOGITS), torch.softmax(LOGITS, -1))


def test_temperature_scales_the_logits():
    torch.testing.assert_close(next_token_probs(LOGITS, temperature=0.5), torch.softmax(LOGITS / 0.5, -1))
    flat = next_token_probs(LOGITS, temperature=1e3)
    torch.testing.assert_close(flat, torch.full_like(flat, 0.2), atol=1e-2, rtol=0)  # towards uniform


def test_low_temperature_concentrates_on_the_argmax():
    probs = next_token_probs(LOGITS, temperature=1e-3)
    expected = torch.zeros_like(probs).scatter_(1, LOGITS.argmax(-1, keepdim=True), 1.0)
    torch.testing.assert_close(probs, expected)


@pytest.mark.parametrize("k", [1, 2, 3, 4])
def test_top_k_keeps_exactly_k(k):
    probs = next_token_probs(LOGITS, top_k=k)
    assert ((probs > 0).sum(-1) == k).all()
    top = LOGITS.topk(k, -1).indices
    kept = torch.zeros_like(probs, dtype=torch.bool).scatter_(1, top, True)
    assert (probs[~kept] == 0).all()
    # the kept ones keep their relative odds: softmax over the kept logits
    for b in range(LOGITS.shape[0]):
        torch.testing.assert_close(probs[b, top[b]], torch.softmax(LOGITS[b, top[b]], -1))
    torch.testing.assert_close(probs.sum(-1), torch.ones(2))


def test_top_k_at_or_above_the_vocabulary_is_no_filter():
    torch.testing.assert_close(next_token_probs(LOGITS, top_k=5), torch.softmax(LOGITS, -1))
    torch.testing.assert_close(next_token_probs(LOGITS, top_k=50), torch.softmax(LOGITS, -1))


def test_top_p_keeps_the_smallest_prefix_reaching_p():
    probs = torch.tensor([[0.5, 0.05, 0.3, 0.15]])
    logits = probs.log()
    # sorted: 0.5, 0.3, 0.15, 0.05; cumulative 0.5, 0.8, 0.95, 1.0
    cases = {
        0.4: [1.0, 0, 0, 0],  # 0.5 alone reaches 0.4
        0.5: [1.0, 0, 0, 0],  # exactly reached by the first
        0.6: [0.5 / 0.8, 0, 0.3 / 0.8, 0],
        0.8: [0.5 / 0.8, 0, 0.3 / 0.8, 0],
        0.81: [0.5 / 0.95, 0, 0.3 / 0.95, 0.15 / 0.95],
        0.96: [0.5, 0.05, 0.3, 0.15],
        1.0: [0.5, 0.05, 0.3, 0.15],
    }
    for p, expected in cases.items():
        got = next_token_probs(logits, top_p=p)
        torch.testing.assert_close(got, torch.tensor([expected]), msg=f"top_p={p}")


def test_top_p_always_keeps_the_most_likely():
    probs = next_token_probs(LOGITS, top_p=1e-6)
    expected = torch.zeros_like(probs).scatter_(1, LOGITS.argmax(-1, keepdim=True), 1.0)
    torch.testing.assert_close(probs, expected)


def test_filters_compose_and_rows_sum_to_one():
    torch.manual_seed(0)
    logits = torch.randn(6, 30)
    for settings in [
        {},
        {"temperature": 0.3},
        {"top_k": 7},
        {"top_p": 0.7},
        {"temperature": 2.0, "top_k": 10, "top_p": 0.5},
    ]:
        probs = next_token_probs(logits, **settings)
        assert probs.shape == logits.shape and (probs >= 0).all()
        torch.testing.assert_close(probs.sum(-1), torch.ones(6))
    both = next_token_probs(logits, top_k=10, top_p=0.5)
    assert ((both > 0).sum(-1) <= 10).all()


def test_half_precision_logits_give_float_probabilities():
    probs = next_token_probs(LOGITS.half())
    assert probs.dtype == torch.float32
    torch.testing.assert_close(probs, torch.softmax(LOGITS.half().float(), -1))


def test_greedy_is_the_argmax():
    assert torch.equal(sample_next(LOGITS, greedy=True), torch.tensor([0, 1]))
    # greedy ignores temperature and filters
    assert torch.equal(sample_next(LOGITS, temperature=100, top_p=0.01, greedy=True), torch.tensor([0, 1]))


def test_sampling_with_top_k_one_is_the_argmax():
    gen = torch.Generator().manual_seed(0)
    for _ in range(20):
        assert torch.equal(sample_next(LOGITS, top_k=1, generator=gen), torch.tensor([0, 1]))


def test_seeded_generator_is_deterministic():
    logits = torch.zeros(4, 50)  # uniform: every draw is a real coin toss

    def draws(seed):
        gen = torch.Generator().manual_seed(seed)
        return torch.stack([sample_next(logits, generator=gen) for _ in range(20)])

    assert torch.equal(draws(1), draws(1))
    assert not torch.equal(draws(1), draws(2))
    assert draws(1).shape == (20, 4) and draws(1).dtype == torch.long


@pytest.mark.parametrize("settings", [{}, {"temperature": 0.7}, {"top_k": 3}, {"top_p": 0.8}])
def test_empirical_frequencies_follow_the_probabilities(settings):
    logits = torch.tensor([[1.0, 0.2, -0.5, 0.8, -2.0]])
    probs = next_token_probs(logits, **settings)[0]
    n = 4000
    gen = torch.Generator().manual_seed(123)
    draws = sample_next(logits.expand(n, -1), generator=gen, **settings)  # n independent rows
    counts = torch.bincount(draws, minlength=5).double()
    assert (counts[probs == 0] == 0).all()  # filtered tokens are never drawn
    kept = probs > 0
    expected = n * probs[kept].double()
    chi2 = float(((counts[kept] - expected) ** 2 / expected).sum())
    # chi-square with at most 4 degrees of freedom: P(chi2 > 25) < 1e-4
    assert chi2 < 25, (counts.tolist(), expected.tolist())
