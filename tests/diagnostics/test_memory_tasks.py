"""The memory-task generators produce correct targets, the baselines are what they claim, and an
LSTM learns the recall task at a short lag within seconds; the benchmark's table, plot and saves."""

import re

import pytest
import torch

from rnnkit.checkpoint import load_checkpoint
from rnnkit.diagnostics.memory_bench import (
    BenchConfig,
    RunResult,
    longest_lags,
    plot_results,
    results_table,
    run_benchmark,
    train_on_task,
)
from rnnkit.diagnostics.memory_tasks import MemoryTask, adding_problem, recall_task
from rnnkit.models import SequenceBatch, SequenceClassifier


def gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


# ----- generators ---------------------------------------------------------------------------------
@pytest.mark.parametrize("length", [2, 3, 10, 101])
def test_adding_problem_targets_are_the_sum_of_the_two_marked_values(length):
    x, y = adding_problem(500, length, gen())
    assert x.shape == (500, length, 2) and y.shape == (500,) and x.dtype == torch.float32
    values, markers = x[..., 0], x[..., 1]
    assert bool(((values >= 0) & (values < 1)).all())
    assert torch.equal(markers.sum(1), torch.full((500,), 2.0))
    assert set(markers.unique().tolist()) <= {0.0, 1.0}
    half = length // 2
    assert torch.equal(markers[:, :half].sum(1), torch.ones(500))  # one marker in each half
    for b in range(500):
        i, j = markers[b].nonzero().flatten().tolist()
        assert i < half <= j
        assert y[b] == values[b, i] + values[b, j]


def test_adding_problem_baseline_is_one_sixth():
    _, y = adding_problem(200_000, 20, gen(1))
    assert float(((y - 1.0) ** 2).mean()) == pytest.approx(1 / 6, abs=3e-3)
    assert MemoryTask("adding").baseline == pytest.approx(0.1667, abs=1e-4)


def test_recall_task_targets_are_the_first_symbol():
    K, Dn, lag = 5, 3, 7
    x, y = recall_task(400, lag, K, Dn, gen())
    assert x.shape == (400, lag + 2) and x.dtype == torch.long
    assert torch.equal(x[:, 0], y)
    assert bool((y < K).all()) and len(y.unique()) == K
    assert torch.equal(x[:, -1], torch.full((400,), K + Dn))  # the recall cue
    middle = x[:, 1:-1]
    assert bool((middle < K + Dn).all())
    assert bool((middle < K).any()) and bool((middle >= K).any())  # symbols and distractors both occur
    assert recall_task(3, 0, generator=gen())[0].shape == (3, 2)


def test_generators_are_reproducible():
    assert torch.equal(adding_problem(4, 6, gen(3))[0], adding_problem(4, 6, gen(3))[0])
    assert torch.equal(recall_task(4, 6, generator=gen(3))[0], recall_task(4, 6, generator=gen(3))[0])


def test_bad_arguments():
    with pytest.raises(ValueError, match=re.escape("adding problem: expected a length >= 2, got 1")):
        adding_problem(3, 1)
    with pytest.raises(ValueError, match=re.escape("n: expected a positive number of sequences, got 0")):
        recall_task(0, 3)
    with pytest.raises(ValueError, match=re.escape("recall task: expected a lag >= 0, got -1")):
        recall_task(2, -1)
    with pytest.raises(ValueError, match=re.escape("task: expected one of ('adding', 'recall'), got 'copy'")):
        MemoryTask("copy")


def test_scores():
    adding = MemoryTask("adding")
    y = torch.tensor([0.5, 1.5, 1.0, 1.0])
    assert adding.evaluate(y, y) == {"mse": 0.0, "score": 1.0, "solved": 1.0, "beats_baseline": 1.0}
    blind = adding.evaluate(torch.ones(4), y)
    assert blind["mse"] == pytest.approx(0.125) and blind["solved"] == 0.0
    recall = MemoryTask("recall", num_symbols=4)
    logits = torch.eye(4)[[0, 1, 2, 3]]
    assert recall.evaluate(logits, torch.tensor([0, 1, 2, 3]))["score"] == 1.0
    chance = recall.evaluate(logits, torch.tensor([0, 0, 0, 0]))  # accuracy 1/4 = chance
    assert chance["score"] == pytest.approx(0.0) and chance["beats_baseline"] == 0.0
    almost = adding.evaluate(y + 0.09, y)  # MSE 0.0081: solved, but not with a margin of 0.5
    assert almost["solved"] == 1.0 and adding.evaluate(y + 0.09, y, margin=0.5)["solved"] == 0.0


def test_model_configs_fit_the_tasks():
    x, y = adding_problem(3, 5, gen())
    model = SequenceClassifier(MemoryTask("adding").model_config("gru", 8))
    out, loss, _ = model(SequenceBatch(x, y))
    assert out.shape == (3,) and loss.dim() == 0
    task = MemoryTask("recall", num_symbols=3, num_distractors=2)
    x, y = task.batch(3, 4, gen())
    out, _, _ = SequenceClassifier(task.model_config("rnn", 8))(SequenceBatch(x, y))
    assert out.shape == (3, 3)


# ----- learning -----------------------------------------------------------------------------------
def test_an_lstm_learns_the_recall_task_at_a_short_lag_in_seconds():
    task = MemoryTask("recall", num_symbols=4, num_distractors=2)
    config = BenchConfig(hidden_size=32, batch_size=32, lr=1e-2, eval_every=25, val_size=200, test_size=500)
    result, model = train_on_task(task, "lstm", 5, minutes=0.5, config=config, max_steps=600)
    assert result.solved, results_table([result])
    assert result.metrics["accuracy"] >= 0.99 and result.seconds < 30
    assert result.solved_after_s is not None and result.steps < 600
    assert isinstance(model, SequenceClassifier)


def test_benchmark_table_plot_and_saved_models(tmp_path):
    task = MemoryTask("adding")
    config = BenchConfig(hidden_size=4, batch_size=8, eval_every=2, val_size=16, test_size=16)
    seen = []
    results = run_benchmark(task, ["rnn", "gru"], [2, 3], 0.002, config, save_dir=tmp_path, on_result=seen.append)
    assert [(r.cell, r.lag) for r in results] == [("rnn", 2), ("rnn", 3), ("gru", 2), ("gru", 3)]
    assert seen == results
    table = results_table(results)
    assert table.splitlines()[0].split()[:4] == ["cell", "lag", "test", "mse"] and len(table.splitlines()) == 6
    ckpt = load_checkpoint(tmp_path / "adding-gru-T3.safetensors")
    assert ckpt.meta["memory_task"] == {"name": "adding", "num_symbols": 8, "num_distractors": 4, "lag": 3}
    assert ckpt.meta["model"]["kind"] == "sequence_classifier"
    png = plot_results(results, tmp_path / "lags.png")
    assert png.read_bytes()[:4] == b"\x89PNG"


def test_longest_lags():
    def run(cell, lag, solved, beats):
        metrics = {"mse": 0.0, "score": 0.0, "solved": float(solved), "beats_baseline": float(beats)}
        return RunResult("adding", cell, lag, 1, 1.0, metrics)

    results = [run("rnn", 5, 1, 1), run("rnn", 10, 0, 1), run("rnn", 20, 0, 0), run("lstm", 5, 0, 0)]
    assert longest_lags(results) == {
        "rnn": {"solved": 5, "beats_baseline": 10},
        "lstm": {"solved": None, "beats_baseline": None},
    }


def test_a_budget_is_required():
    with pytest.raises(ValueError, match=re.escape("bench: expected a budget (minutes > 0 or max_steps)")):
        train_on_task(MemoryTask("adding"), "rnn", 3, 0)
    with pytest.raises(ValueError, match=re.escape("bench: expected hidden_size to be a positive integer, got 0")):
        BenchConfig(hidden_size=0).validate()
