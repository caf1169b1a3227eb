"""SequenceClassifier: token and feature inputs, the three poolings with variable lengths,
bidirectional stacks, both tasks, every backend, the registry, validation, and a learning check."""

import re

import pytest
import torch
import torch.nn.functional as F

from rnnkit.models import MODEL_KINDS, SequenceBatch, SequenceClassifier, SequenceClassifierConfig, build_model

B, T, V, D, C = 4, 6, 9, 3, 5
LENGTHS = torch.tensor([6, 2, 4, 1])  # unsorted on purpose


def make(seed: int = 0, dtype=torch.float64, **overrides) -> SequenceClassifier:
    torch.manual_seed(seed)
    kwargs = {"vocab_size": V, "embedding_size": 4, "hidden_size": 7, "num_classes": C, **overrides}
    if kwargs.get("input_size"):
        kwargs["vocab_size"] = 0
    return SequenceClassifier(SequenceClassifierConfig.from_dict(dict(**kwargs))).to(dtype)


def tokens(seed: int = 1) -> torch.Tensor:
    return torch.randint(0, V, (B, T), generator=torch.Generator().manual_seed(seed))


def features(seed: int = 1, dtype=torch.float64) -> torch.Tensor:
    return torch.randn(B, T, D, generator=torch.Generator().manual_seed(seed), dtype=dtype)


def raises(msg):
    return pytest.raises(ValueError, match=re.escape(msg))


# ----- the contract -------------------------------------------------------------------------------
@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
def test_classify_tokens_shapes_loss_and_state(cell):
    model = make(cell=cell)
    y = torch.tensor([0, 4, 2, 1])
    logits, loss, state = model(SequenceBatch(tokens(), y))
    assert logits.shape == (B, C)
    assert torch.allclose(loss, F.cross_entropy(logits, y))
    h = state[0] if isinstance(state, tuple) else state
    assert h.shape == (1, B, 7) and isinstance(state, tuple) == (cell == "lstm")


def test_regress_features_gives_one_value_and_mse():
    model = make(task="regress", input_size=D)
    y = torch.randn(B, dtype=torch.float64)
    out, loss, _ = model(SequenceBatch(features(), y))
    assert out.shape == (B,)
    assert torch.allclose(loss, F.mse_loss(out, y))
    assert model(SequenceBatch(features()))[1] is None  # no targets, no loss


def test_last_pooling_reads_each_sequence_at_its_own_length():
    model = make()
    x = tokens()
    logits, _, _ = model(SequenceBatch(x, lengths=LENGTHS))
    for b, n in enumerate(LENGTHS.tolist()):
        alone, _, _ = model(SequenceBatch(x[b : b + 1, :n]))
        assert torch.allclose(logits[b], alone[0])


@pytest.mark.parametrize("pooling", ["mean", "max"])
def test_mean_and_max_pool_over_valid_steps_only(pooling):
    model = make(pooling=pooling)
    x = tokens()
    logits, _, _ = model(SequenceBatch(x, lengths=LENGTHS))
    for b, n in enumerate(LENGTHS.tolist()):
        alone, _, _ = model(SequenceBatch(x[b : b + 1, :n]))
        assert torch.allclose(logits[b], alone[0])
    # and by hand, on the recurrent outputs
    out, _ = model.rnn(model.embedding(x).transpose(0, 1))  # (T, B, H)
    pooled = out.mean(0) if pooling == "mean" else out.amax(0)
    assert torch.allclose(model(SequenceBatch(x))[0], model.head(pooled))


def test_padding_content_does_not_matter():
    model = make(task="regress", input_size=D, pooling="max")
    x = features()
    noisy = x.clone()
    for b, n in enumerate(LENGTHS.tolist()):
        noisy[b, n:] = 1e3
    assert torch.allclose(model(SequenceBatch(x, lengths=LENGTHS))[0], model(SequenceBatch(noisy, lengths=LENGTHS))[0])


def test_bidirectional_last_pooling_joins_both_directions():
    model = make(bidirectional=True, num_layers=2)
    assert model.head.in_features == 14
    x = tokens()
    logits, _, state = model(SequenceBatch(x, lengths=LENGTHS))
    h = state[0]  # (L*2, B, H)
    assert torch.allclose(logits, model.head(torch.cat((h[-2], h[-1]), dim=1)))
    for b, n in enumerate(LENGTHS.tolist()):
        assert torch.allclose(logits[b], model(SequenceBatch(x[b : b + 1, :n]))[0][0])


@pytest.mark.parametrize("backend", ["fused", "native"])
def test_backends_agree(backend):
    ref = make(backend="autograd", pooling="mean")
    other = make(backend=backend, pooling="mean")
    other.load_state_dict(ref.state_dict())
    y = torch.tensor([0, 4, 2, 1])
    out_r, loss_r, _ = ref(SequenceBatch(tokens(), y, lengths=LENGTHS))
    out_o, loss_o, _ = other(SequenceBatch(tokens(), y, lengths=LENGTHS))
    assert torch.allclose(out_r, out_o)
    g_r = torch.autograd.grad(loss_r, list(ref.parameters()))
    g_o = torch.autograd.grad(loss_o, list(other.parameters()))
    assert all(torch.allclose(a, b) for a, b in zip(g_r, g_o))


def test_registered_and_rebuilt_from_its_config_dict():
    model = make(bidirectional=True, pooling="max")
    assert MODEL_KINDS["sequence_classifier"] == (SequenceClassifier, SequenceClassifierConfig)
    again = build_model(model.kind, model.config_dict()).to(torch.float64)
    again.load_state_dict(model.state_dict())
    assert torch.equal(again(SequenceBatch(tokens()))[0], model(SequenceBatch(tokens()))[0])


def test_learns_to_classify_the_first_token():
    torch.manual_seed(0)
    model = SequenceClassifier(
        SequenceClassifierConfig.from_dict(dict(vocab_size=4, num_classes=4, hidden_size=16, embedding_size=8))
    )
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    g = torch.Generator().manual_seed(0)
    for _ in range(150):
        x = torch.randint(0, 4, (32, 5), generator=g)
        _, loss, _ = model(SequenceBatch(x, x[:, 0]))
        opt.zero_grad()
        loss.backward()
        opt.step()
    x = torch.randint(0, 4, (200, 5), generator=g)
    assert float((model(SequenceBatch(x))[0].argmax(-1) == x[:, 0]).float().mean()) > 0.95


# ----- validation ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"task": "tag"}, "model: expected task in ('classify', 'regress'), got 'tag'"),
        ({"pooling": "first"}, "model: expected pooling in ('last', 'mean', 'max'), got 'first'"),
        ({"vocab_size": 0}, "expected exactly one of vocab_size"),
        ({"input_size": 3}, "expected exactly one of vocab_size"),
        ({"num_classes": 1}, "model: expected num_classes >= 2 for classification, got 1"),
        ({"hidden_size": 0}, "config: [model.rnn] hidden_size: expected a positive integer, got 0"),
        ({"dropout": 1.0}, "model: expected dropout in [0, 1), got 1.0"),
        ({"embedding_size": 0}, "model: expected embedding_size >= 1 with token inputs, got 0"),
    ],
)
def test_bad_configs_are_rejected(overrides, message):
    kwargs = {"vocab_size": V, **overrides}
    if overrides.get("input_size"):
        kwargs["vocab_size"] = V  # both set
    with raises(message):
        SequenceClassifier(SequenceClassifierConfig.from_dict(dict(**kwargs)))


def test_bad_inputs_and_targets_are_rejected():
    model = make()
    with raises("inputs: expected a 2-D integer tensor (B, T) of token ids, got dtype torch.float64"):
        model(SequenceBatch(features()))
    with raises(f"inputs: expected token ids in [0, {V}), got values in [{V}, {V}]"):
        model(SequenceBatch(torch.full((B, T), V)))
    with raises(f"targets: expected a tensor of shape ({B},), one target per sequence, got (4, 1)"):
        model(SequenceBatch(tokens(), torch.zeros(B, 1, dtype=torch.long)))
    with raises(f"targets: expected class ids in [0, {C}), got values in [0, {C}]"):
        model(SequenceBatch(tokens(), torch.tensor([0, 1, 2, C])))
    with raises("targets: expected integer class ids, got dtype torch.float32"):
        model(SequenceBatch(tokens(), torch.zeros(B)))
    with raises("lengths: expected values in [1, T=6], got min 0, max 6"):
        model(SequenceBatch(tokens(), lengths=torch.tensor([6, 0, 1, 1])))
    reg = make(task="regress", input_size=D)
    with raises(f"inputs: expected a floating-point tensor (B, T, D={D}), got dtype torch.int64"):
        reg(SequenceBatch(tokens()))
    with raises("targets: expected floating-point numbers for regression, got dtype torch.int64"):
        reg(SequenceBatch(features(), torch.zeros(B, dtype=torch.long)))
