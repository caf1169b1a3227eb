"""LanguageModelTask (truncated BPTT with the state carried across windows) and stream_loss."""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from rnnkit.data import StreamBatcher
from rnnkit.models import LanguageModel, LanguageModelConfig, TokenBatch
from rnnkit.tasks import LanguageModelTask, stream_loss

V = 6
CPU = torch.device("cpu")


def make(cell: str = "lstm", seed: int = 0) -> LanguageModel:
    torch.manual_seed(seed)
    return LanguageModel(
        LanguageModelConfig.from_dict(dict(vocab_size=V, cell=cell, embedding_size=5, hidden_size=16, num_layers=2))
    )


def stream(n: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, V, size=n).astype(np.uint8)


def parts(state):
    return state if isinstance(state, tuple) else (state,)


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_train_loss_carries_state_between_windows_and_resets_at_zero(cell):
    ids = stream(200)
    task = LanguageModelTask(ids, None, batch_size=4, seq_len=7, device=CPU)
    model = make(cell)
    batches = StreamBatcher(ids, 4, 7)
    assert task.batches_per_epoch == len(batches) == 7  # L = 50: ceil(49 / 7)

    # by hand: window 0 from zero, window 1 from window 0's final state, window 2 from window 1's
    expected, state = [], None
    with torch.no_grad():
        for k in range(3):
            x, y = batches.window(k)
            _, loss, state = model(TokenBatch(x, y), state)
            expected.append(loss.item())
    got = []
    for k in range(3):
        loss, n = task.train_loss(model, k)
        assert n == 4 * 7
        got.append(loss.item())
        assert all(not p.requires_grad for p in parts(task.state))  # detached: TBPTT stops here
    assert got == pytest.approx(expected, rel=1e-6)
    torch.testing.assert_close(task.state, state)

    # index 0 again (a new epoch): the state is reset, so the loss is window 0's from zero
    loss0, _ = task.train_loss(model, 0)
    assert loss0.item() == pytest.approx(expected[0], rel=1e-6)


def test_train_loss_without_the_carry_differs():
    """Window 1 from the zero state is a different loss: the carry is real, not a no-op."""
    ids = stream(200)
    task = LanguageModelTask(ids, None, batch_size=4, seq_len=7, device=CPU)
    model = make()
    task.train_loss(model, 0)
    carried, _ = task.train_loss(model, 1)
    task.state = None
    fresh, _ = task.train_loss(model, 1)
    assert carried.item() != pytest.approx(fresh.item(), rel=1e-4)


def test_train_loss_backpropagates_only_through_the_window():
    ids = stream(200)
    task = LanguageModelTask(ids, None, batch_size=2, seq_len=5, device=CPU)
    model = make()
    task.train_loss(model, 0)
    loss, _ = task.train_loss(model, 1)
    loss.backward()  # would fail ("backward through the graph a second time") if not detached
    assert all(p.grad is not None for p in model.parameters())


@pytest.mark.parametrize("cell, n_parts", [("lstm", 2), ("gru", 1), ("rnn", 1)])
def test_state_tensors_round_trip(cell, n_parts):
    ids = stream(120)
    task = LanguageModelTask(ids, None, batch_size=3, seq_len=6, device=CPU)
    assert task.state_tensors() == {}
    model = make(cell)
    task.train_loss(model, 0)
    task.train_loss(model, 1)
    saved = task.state_tensors()
    assert sorted(saved) == [f"carry.{i}" for i in range(n_parts)]
    assert all(t.shape == (2, 3, 16) for t in saved.values())
    saved = {k: v.clone() for k, v in saved.items()}  # as a checkpoint would hold them

    other = LanguageModelTask(ids, None, batch_size=3, seq_len=6, device=CPU)
    other.load_state_tensors(saved)
    for a, b in zip(parts(other.state), parts(task.state)):
        assert torch.equal(a, b)
    assert isinstance(other.state, tuple) == (n_parts == 2)
    # the resumed task continues exactly like the original
    assert torch.equal(other.train_loss(model, 2)[0], task.train_loss(model, 2)[0])
    # an empty dict means "no carried state"
    other.load_state_tensors({})
    assert other.state is None


def test_stream_loss_equals_the_whole_sequence_for_one_stream():
    ids = stream(53, seed=3)
    model = make()
    model.train()
    got = stream_loss(model, ids, batch_size=1, seq_len=8, device=CPU)  # 52 predictions, 7 windows
    assert model.training  # the mode is restored
    x = torch.from_numpy(ids.astype(np.int64))[None]  # (1, N)
    model.eval()
    with torch.no_grad():
        logits, _, _ = model(TokenBatch(x[:, :-1]))
        expected = F.cross_entropy(logits[0], x[0, 1:]).item()
    assert got == pytest.approx(expected, rel=1e-5)


def test_stream_loss_counts_every_prediction_of_every_stream_once():
    ids = stream(61, seed=4)  # B = 3: L = 20, one id dropped
    model = make().eval()
    got = stream_loss(model, ids, batch_size=3, seq_len=4, device=CPU)
    total, count = 0.0, 0
    with torch.no_grad():
        for b in range(3):
            row = torch.from_numpy(ids[b * 20 : (b + 1) * 20].astype(np.int64))[None]
            logits, _, _ = model(TokenBatch(row[:, :-1]))
            total += F.cross_entropy(logits[0], row[0, 1:], reduction="sum").item()
            count += 19
    assert got == pytest.approx(total / count, rel=1e-5)


def test_stream_loss_on_a_short_stream_shrinks_the_batch():
    ids = stream(5, seed=5)
    model = make().eval()
    got = stream_loss(model, ids, batch_size=32, seq_len=100, device=CPU)
    assert math.isfinite(got) and got > 0


def test_evaluate_reports_nats_and_bits():
    ids = stream(100)
    val = stream(40, seed=9)
    model = make()
    task = LanguageModelTask(ids, val, batch_size=2, seq_len=5, device=CPU)
    result = task.evaluate(model)
    assert set(result) == {"val_loss", "val_bpc"}
    assert result["val_bpc"] == pytest.approx(result["val_loss"] / math.log(2))
    assert result["val_loss"] == pytest.approx(stream_loss(model, val, 2, 5, CPU))
    assert LanguageModelTask(ids, None, 2, 5, CPU).evaluate(model) == {}
    assert LanguageModelTask(ids, val[:1], 2, 5, CPU).evaluate(model) == {}
