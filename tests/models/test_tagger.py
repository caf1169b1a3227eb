"""SequenceTagger: shapes, masking of padding in the loss, padded batch == one sentence at a time
(with and without character features), the registry, validation, and learning a tiny task."""

import re

import pytest
import torch
import torch.nn.functional as F

from rnnkit.data import pad_chars, pad_sequences
from rnnkit.models import MODEL_KINDS, SequenceTagger, SequenceTaggerConfig, TaggedBatch, build_model
from rnnkit.models.tagger import IGNORE

V, C, CV = 12, 4, 9
SENTS = [[3, 4, 5, 6, 7], [8, 2], [9, 10, 11], [2]]  # word ids, unsorted lengths
SPELL = [[[2 + (w + k) % 7 for k in range(1 + w % 4)] for w in s] for s in SENTS]  # char ids per word
TAGS = [[w % C for w in s] for s in SENTS]


def make(chars: bool = False, seed: int = 0, **overrides) -> SequenceTagger:
    torch.manual_seed(seed)
    cfg = {"num_tags": C, "vocab_size": V, "embedding_size": 5, "hidden_size": 6, "num_layers": 2, "dropout": 0.0}
    if chars:
        cfg.update(char_features=True, char_vocab_size=CV, char_embedding_size=3, char_hidden_size=4)
    return SequenceTagger(SequenceTaggerConfig.from_dict(dict(**{**cfg, **overrides}))).double()


def batch(rows=None):
    rows = range(len(SENTS)) if rows is None else rows
    words, lengths = pad_sequences([SENTS[r] for r in rows])
    chars, char_lengths = pad_chars([SPELL[r] for r in rows])
    targets, _ = pad_sequences([TAGS[r] for r in rows], pad=IGNORE)
    return words, lengths, chars, char_lengths, targets


@pytest.mark.parametrize("chars", [False, True])
def test_padded_batch_equals_one_sentence_at_a_time(chars):
    model = make(chars)
    words, lengths, ch, ch_len, targets = batch()
    logits, loss, _ = model(TaggedBatch(words, targets, lengths=lengths, chars=ch, char_lengths=ch_len))
    assert logits.shape == (4, 5, C)
    total, count = 0.0, 0
    for r, sentence in enumerate(SENTS):
        w1, l1, c1, cl1, t1 = batch([r])
        alone, alone_loss, _ = model(TaggedBatch(w1, t1, lengths=l1, chars=c1, char_lengths=cl1))
        assert torch.allclose(logits[r, : len(sentence)], alone[0], atol=1e-12)
        total, count = total + alone_loss.item() * len(sentence), count + len(sentence)
    assert loss.item() == pytest.approx(total / count, abs=1e-12)  # a mean over real tokens only


def test_padding_stays_out_of_the_loss():
    model = make(True)
    words, lengths, ch, ch_len, targets = batch()
    _, loss, _ = model(TaggedBatch(words, targets, lengths=lengths, chars=ch, char_lengths=ch_len))
    noisy_words, noisy_chars = words.clone(), ch.clone()
    for r, n in enumerate(lengths.tolist()):
        noisy_words[r, n:] = V - 1  # garbage in the padding positions
        noisy_chars[r, n:] = CV - 1
    logits2, loss2, _ = model(
        TaggedBatch(noisy_words, targets, lengths=lengths, chars=noisy_chars, char_lengths=ch_len)
    )
    assert loss2.item() == pytest.approx(loss.item(), abs=1e-12)
    manual = F.cross_entropy(logits2[targets != IGNORE], targets[targets != IGNORE])
    assert loss2.item() == pytest.approx(manual.item(), abs=1e-12)


def test_char_features_change_the_representation_of_unknown_words():
    model = make(True)
    words, lengths, ch, ch_len, _ = batch()
    words = torch.ones_like(words)  # every word <unk>: only the spelling tells them apart
    logits, _, _ = model(TaggedBatch(words, lengths=lengths, chars=ch, char_lengths=ch_len))
    assert not torch.allclose(logits[0, 0], logits[0, 1])


def test_registry_and_validation():
    model = make(True)
    rebuilt = build_model("sequence_tagger", model.config_dict())
    assert MODEL_KINDS["sequence_tagger"][0] is SequenceTagger
    assert sum(p.numel() for p in rebuilt.parameters()) == sum(p.numel() for p in model.parameters())
    with pytest.raises(ValueError, match=re.escape("expected num_tags to be an integer >= 2, got 1")):
        SequenceTaggerConfig.from_dict(dict(num_tags=1)).validate()
    with pytest.raises(ValueError, match="expected character ids and lengths"):
        make(True)(TaggedBatch(batch()[0], lengths=batch()[1]))
    with pytest.raises(ValueError, match=re.escape("targets: expected a tensor of shape (4, 5), got (4, 4)")):
        make()(TaggedBatch(batch()[0], batch()[4][:, :4], lengths=batch()[1]))


def test_learns_tags_that_depend_on_the_next_word():
    """The tag of a word is the previous word's id mod C: it needs context, not the word itself."""
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    words = torch.randint(2, V, (64, 7), generator=g)
    targets = torch.cat([torch.zeros(64, 1, dtype=torch.long), words[:, :-1] % C], dim=1)
    lengths = torch.randint(1, 8, (64,), generator=g)
    targets[torch.arange(7)[None, :] >= lengths[:, None]] = IGNORE
    model = SequenceTagger(
        SequenceTaggerConfig.from_dict(dict(num_tags=C, vocab_size=V, embedding_size=16, hidden_size=24, dropout=0))
    )
    opt = torch.optim.Adam(model.parameters(), lr=0.02)
    for _ in range(150):
        opt.zero_grad()
        _, loss, _ = model(TaggedBatch(words, targets, lengths=lengths))
        loss.backward()
        opt.step()
    logits, _, _ = model(TaggedBatch(words, lengths=lengths))
    real = targets != IGNORE
    assert (logits.argmax(-1)[real] == targets[real]).float().mean() > 0.98
