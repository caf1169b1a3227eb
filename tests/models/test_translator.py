"""The encoder-decoder: attention sums to 1 and ignores padding, teacher forcing == the step API,
padded batches == one sentence at a time, every bridge and attention kind, the losses, the
refusals, and learning: a tiny parallel set reproduced exactly, copy and reverse solved."""

import math
import re

import pytest
import torch

from rnnkit.infer.beam import beam_search
from rnnkit.infer.decoding import decode
from rnnkit.layers import RecurrentConfig
from rnnkit.models import IGNORE, MODEL_KINDS, TranslationBatch, Translator, TranslatorConfig, build_model
from rnnkit.models.attention import Attention

PAD, BOS, EOS = 0, 2, 3


def config(**kw) -> TranslatorConfig:
    base = dict(
        source_vocab_size=11,
        target_vocab_size=13,
        embedding_size=8,
        dropout=0.0,
        encoder=RecurrentConfig("lstm", hidden_size=6, bidirectional=True),
        decoder=RecurrentConfig("lstm", hidden_size=12, num_layers=2),
    )
    return TranslatorConfig(**{**base, **kw})


def batch(seed=0):
    g = torch.Generator().manual_seed(seed)
    src = torch.randint(4, 11, (3, 7), generator=g)
    lengths = torch.tensor([7, 4, 2])
    for b in range(3):
        src[b, lengths[b] :] = PAD
    tgt = torch.randint(4, 13, (3, 5), generator=g)
    tgt[:, -1] = EOS
    tgt[1, 2], tgt[1, 3:] = EOS, IGNORE
    return src, lengths, tgt


FORMS = {
    "plain": dict(attention="none"),
    "plain-gru-last": dict(
        attention="none",
        bridge="last",
        encoder=RecurrentConfig("gru", hidden_size=6, bidirectional=True),
        decoder=RecurrentConfig("gru", hidden_size=12),
    ),
    "additive": dict(attention="additive"),
    "additive-feeding": dict(attention="additive", input_feeding=True),
    "dot": dict(attention="dot"),
    "general-feeding-zero": dict(attention="general", input_feeding=True, bridge="zero"),
    "general-mixed-cells": dict(
        attention="general",
        encoder=RecurrentConfig("gru", hidden_size=5, num_layers=2),
        decoder=RecurrentConfig("lnlstm", hidden_size=7),
    ),
    "tied": dict(attention="additive", tie_weights=True, embedding_size=12),
}


@pytest.mark.parametrize("form", FORMS)
def test_teacher_forcing_equals_the_step_api_and_padding_changes_nothing(form):
    torch.manual_seed(0)
    model = Translator(config(**FORMS[form])).double().eval()
    src, lengths, tgt = batch()
    out = model(TranslationBatch(src, tgt, lengths))
    assert out.out.shape == (3, 5, 13) and out.state is None
    state = model.start(src, lengths)
    previous = torch.cat([torch.full((3, 1), BOS), tgt[:, :-1]], dim=1).masked_fill(lambda_ignore(tgt), PAD)
    steps = []
    for t in range(5):
        logits, state, _ = model.step(previous[:, t], state)
        steps.append(logits)
    torch.testing.assert_close(torch.stack(steps, 1), out.out, rtol=0, atol=1e-12)
    for b in range(3):  # each sentence alone, without padding: the same logits where its target is
        n, m = int(lengths[b]), int((tgt[b] != IGNORE).sum())
        alone = model(TranslationBatch(src[b : b + 1, :n], tgt[b : b + 1, :m], lengths[b : b + 1])).out
        torch.testing.assert_close(alone[0], out.out[b, :m], rtol=0, atol=1e-12)


def lambda_ignore(tgt):
    shifted = torch.cat([torch.zeros(tgt.shape[0], 1, dtype=torch.bool), (tgt == IGNORE)[:, :-1]], dim=1)
    return shifted


def test_the_loss_is_mean_nll_per_target_token_and_smoothing_is_for_training_only():
    torch.manual_seed(0)
    model = Translator(config(label_smoothing=0.1)).double()
    src, lengths, tgt = batch()
    model.eval()
    out = model(TranslationBatch(src, tgt, lengths))
    logp = torch.log_softmax(out.out, -1)
    valid = tgt != IGNORE
    nll = -logp[valid].gather(1, tgt[valid][:, None]).mean()
    torch.testing.assert_close(out.loss, nll)
    model.train()
    smoothed = model(TranslationBatch(src, tgt, lengths)).loss
    expected = 0.9 * nll + 0.1 * (-logp[valid].mean(-1)).mean()
    torch.testing.assert_close(smoothed, expected)


def test_attention_weights_sum_to_one_and_padding_gets_none():
    torch.manual_seed(0)
    for kind in ("additive", "dot", "general"):
        att = Attention(kind, 6, 6).double()
        memory = torch.randn(2, 5, 6, dtype=torch.double)
        mask = torch.tensor([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]], dtype=torch.bool)
        query = torch.randn(2, 4, 6, dtype=torch.double)
        context, alpha = att(query, att.keys(memory), memory, mask)
        torch.testing.assert_close(alpha.sum(-1), torch.ones(2, 4, dtype=torch.double))
        assert (alpha[0, :, 3:] == 0).all()
        changed = memory.clone()
        changed[0, 3:] = 1e3  # padding's values never reach the context
        context2, _ = att(query, att.keys(changed), changed, mask)
        torch.testing.assert_close(context2[0], context[0], rtol=0, atol=0)
        torch.testing.assert_close(context, alpha @ memory)


def test_scheduled_sampling_reads_own_guesses_only_in_training():
    torch.manual_seed(0)
    model = Translator(config(scheduled_sampling=1.0)).double()
    src, lengths, tgt = batch()
    model.eval()
    teacher = model(TranslationBatch(src, tgt, lengths)).loss
    plain = Translator(config()).double().eval()
    plain.load_state_dict(model.state_dict())
    torch.testing.assert_close(teacher, plain(TranslationBatch(src, tgt, lengths)).loss)
    model.train()
    own = model(TranslationBatch(src, tgt, lengths)).loss
    assert not torch.allclose(own, teacher)


def test_build_model_round_trip_through_the_config_dict():
    model = Translator(config(attention="general", input_feeding=True))
    assert MODEL_KINDS["translator"] == (Translator, TranslatorConfig)
    again = build_model("translator", model.config_dict(), model.state_dict())
    for (k, a), (_, b) in zip(model.state_dict().items(), again.state_dict().items()):
        assert torch.equal(a, b), k
    d = model.config_dict()
    assert d["encoder"]["bidirectional"] is True and "input_size" not in d["decoder"]


@pytest.mark.parametrize(
    "kw, msg",
    [
        (dict(attention="luong"), "model: expected attention in ('none', 'additive', 'dot', 'general'), got 'luong'"),
        (dict(bridge="mean"), "model: expected bridge in ('learned', 'last', 'zero'), got 'mean'"),
        (dict(attention="none", input_feeding=True), "model: input_feeding needs attention"),
        (dict(tie_weights=True), "model: tie_weights needs embedding_size == the decoder's size, got 8 and 12"),
        (dict(bridge="last", decoder=RecurrentConfig("lstm", hidden_size=7)), "model: bridge 'last' needs"),
        (dict(attention="dot", decoder=RecurrentConfig("lstm", hidden_size=7)), "model: dot attention needs"),
        (dict(decoder=RecurrentConfig("lstm", hidden_size=7, bidirectional=True)), "expected a unidirectional decoder"),
        (dict(eos_id=13), "model: expected eos_id in [0, 13), got 13"),
        (dict(label_smoothing=1.0), "model: expected label_smoothing in [0, 0.999], got 1.0"),
        (dict(source_vocab_size=0), "model: expected source_vocab_size to be an integer >= 1, got 0"),
    ],
)
def test_refusals(kw, msg):
    with pytest.raises(ValueError, match=re.escape(msg)):
        Translator(config(**kw))


def test_bad_ids_are_refused_in_one_line():
    model = Translator(config())
    src, lengths, tgt = batch()
    with pytest.raises(ValueError, match=re.escape("inputs: expected token ids in [0, 11), got values in [0, 11]")):
        model(TranslationBatch(torch.cat([src, torch.full((3, 1), 11)], 1), tgt, torch.tensor([8, 4, 2])))
    with pytest.raises(ValueError, match=re.escape("targets: expected token ids in [0, 13)")):
        model(TranslationBatch(src, tgt.masked_fill(tgt == EOS, 20), lengths))
    with pytest.raises(ValueError, match=re.escape("inputs: expected a 2-D integer tensor (B, T) of token ids")):
        model(TranslationBatch(src.float(), tgt, lengths))


# ----- learning -------------------------------------------------------------------------------------
def toy(task: str, n: int, length: int, seed: int):
    """n sequences over symbols 4..9 of lengths 2..length; targets = the copy or the reverse, then <eos>."""
    g = torch.Generator().manual_seed(seed)
    lengths = torch.randint(2, length + 1, (n,), generator=g)
    src = torch.randint(4, 10, (n, length), generator=g)
    tgt = torch.full((n, length + 1), IGNORE)
    for b in range(n):
        m = int(lengths[b])
        src[b, m:] = PAD
        row = src[b, :m] if task == "copy" else src[b, :m].flip(0)
        tgt[b, :m], tgt[b, m] = row, EOS
    return src, lengths, tgt


def train(model, data, steps: int, lr: float = 1e-2, bs: int = 64, seed: int = 0) -> None:
    src, lengths, tgt = data
    torch.manual_seed(seed)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    model.train()
    for _ in range(steps):
        idx = torch.randint(0, src.shape[0], (bs,))
        loss = model(TranslationBatch(src[idx], tgt[idx], lengths[idx])).loss
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
    model.eval()


def accuracy(model, data) -> float:
    src, lengths, tgt = data
    hyps = decode(model, src, lengths, BOS, EOS)
    right = sum(h.tokens == tgt[b][tgt[b] != IGNORE][:-1].tolist() and h.ended for b, h in enumerate(hyps))
    return right / len(hyps)


def small(**kw) -> TranslatorConfig:
    base = dict(
        source_vocab_size=10,
        target_vocab_size=10,
        embedding_size=16,
        dropout=0.0,
        encoder=RecurrentConfig("gru", hidden_size=32, bidirectional=True),
        decoder=RecurrentConfig("gru", hidden_size=64),
    )
    return TranslatorConfig(**{**base, **kw})


@pytest.mark.parametrize("task", ["copy", "reverse"])
def test_attention_solves_copy_and_reverse(task):
    torch.manual_seed(0)
    model = Translator(small(attention="general"))
    train(model, toy(task, 2000, 8, seed=1), steps=500)
    assert accuracy(model, toy(task, 200, 8, seed=2)) >= 0.95


def test_without_attention_short_reversal_is_learned_too():
    torch.manual_seed(0)
    model = Translator(small(attention="none"))
    train(model, toy("reverse", 2000, 4, seed=1), steps=300)
    assert accuracy(model, toy("reverse", 200, 4, seed=2)) >= 0.9


def test_a_tiny_parallel_set_is_reproduced_exactly_greedy_and_beam():
    torch.manual_seed(0)
    data = toy("reverse", 12, 6, seed=3)
    src, lengths, tgt = data
    tgt = tgt.clone()
    tgt[tgt >= 4] = (tgt[tgt >= 4] * 7 + 3) % 6 + 4  # an arbitrary "translation" of each symbol
    data = (src, lengths, tgt)
    model = Translator(small(attention="additive", input_feeding=True))
    train(model, data, steps=150, bs=12)
    assert accuracy(model, data) == 1.0
    beams = beam_search(model, src, lengths, BOS, EOS, beam=5, alpha=1.0)
    for b, hyps in enumerate(beams):
        assert hyps[0].tokens == tgt[b][tgt[b] != IGNORE][:-1].tolist()
    assert math.isfinite(beams[0][0].score)
