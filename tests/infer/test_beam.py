"""Greedy, sampled and beam decoding: beam 1 == greedy, beam finds what greedy misses, GNMT's length
penalty, n-best order, maximum lengths, padded batches == one sentence at a time, bad settings."""

import math
import re
from dataclasses import dataclass

import pytest
import torch

from rnnkit.infer.beam import beam_search, check_beam
from rnnkit.infer.decoding import decode, length_penalty, max_lengths
from rnnkit.layers import RecurrentConfig
from rnnkit.models import Translator, TranslatorConfig

BOS, EOS = 2, 3


@dataclass
class ChainState:
    rows: torch.Tensor  # (n,) the sentence of each row (unused by the chain, kept to test select)

    def select(self, index):
        return ChainState(self.rows.index_select(0, index))


class Chain:
    """A 'decoder' whose next-token distribution depends on the last token only: table[last]."""

    def __init__(self, table: dict[int, dict[int, float]], V: int = 8):
        self.logp = torch.full((V, V), -1e9)
        for last, nxt in table.items():
            for token, p in nxt.items():
                self.logp[last, token] = math.log(p)

    def start(self, inputs, lengths):
        return ChainState(torch.arange(inputs.shape[0]))

    def step(self, tokens, state):
        return self.logp[tokens], state, None


# From <bos>: 4 (0.6) then 5 / 6 / <eos> at 0.36 / 0.34 / 0.3; or 7 (0.4) then <eos> (1.0).
GREEDY_TRAP = {BOS: {4: 0.6, 7: 0.4}, 4: {5: 0.36, 6: 0.34, EOS: 0.3}, 7: {EOS: 1.0}, 5: {EOS: 1.0}, 6: {EOS: 1.0}}


def source(n=1, length=3):
    return torch.full((n, length), 5), torch.full((n,), length)


def test_greedy_takes_the_locally_best_token_and_beam_finds_the_better_sentence():
    chain = Chain(GREEDY_TRAP)
    src, lengths = source()
    greedy = decode(chain, src, lengths, BOS, EOS)[0]
    assert greedy.tokens == [4, 5] and greedy.ended
    assert greedy.log_prob == pytest.approx(math.log(0.6 * 0.36))
    best = beam_search(chain, src, lengths, BOS, EOS, beam=2, alpha=0.0, n_best=2)[0]
    assert best[0].tokens == [7] and best[0].log_prob == pytest.approx(math.log(0.4))
    # n-best in order; 4 <eos> (0.18) ranked 4th of the 2k candidates at its step, so it was never taken
    assert best[1].tokens == [4, 5] and best[1].log_prob == pytest.approx(math.log(0.6 * 0.36))


def test_beam_one_is_greedy():
    chain = Chain(GREEDY_TRAP)
    src, lengths = source()
    one = beam_search(chain, src, lengths, BOS, EOS, beam=1, alpha=0.6)[0][0]
    greedy = decode(chain, src, lengths, BOS, EOS)[0]
    assert (one.tokens, one.ended) == (greedy.tokens, greedy.ended)
    assert one.log_prob == pytest.approx(greedy.log_prob)


def test_the_length_penalty_is_gnmt_s():
    assert length_penalty(3, 0.0) == 1.0
    assert length_penalty(3, 1.0) == pytest.approx(8 / 6)
    assert length_penalty(10, 0.6) == pytest.approx((15 / 6) ** 0.6)
    # A longer sentence wins once alpha rewards length: <bos> -> 4 (0.5) <eos> | 7 (0.5) 5 (0.9) <eos>
    chain = Chain({BOS: {4: 0.5, 7: 0.5}, 4: {EOS: 1.0}, 7: {5: 0.9, EOS: 0.1}, 5: {EOS: 1.0}})
    src, lengths = source()
    short = beam_search(chain, src, lengths, BOS, EOS, beam=3, alpha=0.0)[0][0]
    long = beam_search(chain, src, lengths, BOS, EOS, beam=3, alpha=2.0)[0][0]
    assert short.tokens == [4] and long.tokens == [7, 5]
    assert long.score == pytest.approx(math.log(0.45) / length_penalty(3, 2.0))


def test_maximum_lengths_cut_unended_outputs():
    chain = Chain({BOS: {4: 1.0}, 4: {4: 0.9, EOS: 0.1}})  # greedy never ends
    src, lengths = source(2)
    lengths = torch.tensor([3, 1])
    assert max_lengths(lengths, 2.0, 1).tolist() == [7, 3]
    hyps = decode(chain, src, lengths, BOS, EOS, max_ratio=2.0, max_extra=1)
    assert [len(h.tokens) for h in hyps] == [7, 3] and not any(h.ended for h in hyps)
    beams = beam_search(chain, src, lengths, BOS, EOS, beam=2, max_ratio=2.0, max_extra=1, alpha=0.0)
    assert all(len(h.tokens) <= limit for h, limit in zip((b[0] for b in beams), (7, 3)))


def test_sampling_is_seeded_and_follows_the_distribution():
    chain = Chain({BOS: {4: 0.5, 5: 0.5}, 4: {EOS: 1.0}, 5: {EOS: 1.0}})
    src, lengths = source(400)
    first = [
        h.tokens[0]
        for h in decode(chain, src, lengths, BOS, EOS, sample=True, generator=torch.Generator().manual_seed(1))
    ]
    again = [
        h.tokens[0]
        for h in decode(chain, src, lengths, BOS, EOS, sample=True, generator=torch.Generator().manual_seed(1))
    ]
    assert first == again and 150 < first.count(4) < 250


def test_a_padded_batch_decodes_as_each_sentence_alone():
    torch.manual_seed(0)
    cfg = TranslatorConfig(
        source_vocab_size=12,
        target_vocab_size=12,
        embedding_size=8,
        dropout=0.0,
        attention="additive",
        input_feeding=True,
        encoder=RecurrentConfig("gru", hidden_size=8, bidirectional=True),
        decoder=RecurrentConfig("lstm", hidden_size=16),
    )
    model = Translator(cfg).double().eval()
    for p in model.head.parameters():  # a sharper output: sentences of several tokens, not <eos> at once
        p.data *= 4
    model.head.bias.data[EOS] -= 3
    g = torch.Generator().manual_seed(0)
    lengths = torch.tensor([6, 2, 4, 1])
    src = torch.randint(4, 12, (4, 6), generator=g)
    for b in range(4):
        src[b, lengths[b] :] = 0
    greedy = decode(model, src, lengths, BOS, EOS, attention=True)
    beams = beam_search(model, src, lengths, BOS, EOS, beam=4, n_best=2, attention=True)
    assert any(len(h.tokens) > 2 for h in greedy)
    for b in range(4):
        n = int(lengths[b])
        alone = decode(model, src[b : b + 1, :n], lengths[b : b + 1], BOS, EOS, attention=True)[0]
        assert alone.tokens == greedy[b].tokens
        assert alone.log_prob == pytest.approx(greedy[b].log_prob, abs=1e-10)
        torch.testing.assert_close(alone.attention, greedy[b].attention[:, :n])
        assert (greedy[b].attention[:, n:] == 0).all()
        alone_beam = beam_search(model, src[b : b + 1, :n], lengths[b : b + 1], BOS, EOS, beam=4, n_best=2)[0]
        assert [h.tokens for h in alone_beam] == [h.tokens for h in beams[b]]
        assert beams[b][0].score >= beams[b][1].score
        steps = len(beams[b][0].tokens) + beams[b][0].ended
        assert beams[b][0].attention.shape == (steps, 6)
        torch.testing.assert_close(beams[b][0].attention.sum(-1), torch.ones(steps))


@pytest.mark.parametrize(
    "kw, msg",
    [
        (dict(beam=0), "beam: expected an integer >= 1 (1 = greedy), got 0"),
        (dict(beam=5, alpha=-0.5), "alpha: expected a length-penalty exponent >= 0 (0 = none), got -0.5"),
        (dict(beam=2, n_best=3), "n-best: expected an integer in [1, beam=2], got 3"),
    ],
)
def test_bad_beam_settings(kw, msg):
    with pytest.raises(ValueError, match=re.escape(msg)):
        check_beam(kw.pop("beam"), kw.pop("alpha", 1.0), **kw)


def test_bad_length_rules():
    with pytest.raises(ValueError, match=re.escape("max ratio: expected a number >= 0")):
        max_lengths(torch.tensor([3]), -1.0, 5)
    with pytest.raises(ValueError, match=re.escape("max length: expected max_ratio > 0 or max_extra > 0")):
        max_lengths(torch.tensor([3]), 0.0, 0)
