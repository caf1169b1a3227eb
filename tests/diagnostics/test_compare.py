"""lm_batch windows and compare_cells: fresh and briefly trained models of each cell, measured on
one batch, each training run logging every step's gradient norm."""

import json
import re

import numpy as np
import pytest
import torch

from rnnkit.data import CharVocab
from rnnkit.diagnostics.compare import compare_cells, lm_batch
from rnnkit.models import LanguageModelConfig
from rnnkit.train import TrainConfig


def test_lm_batch_windows():
    ids = np.arange(100, dtype=np.uint8)
    x, y = lm_batch(ids, 4, 10)
    assert x.shape == y.shape == (4, 10) and x.dtype == torch.long
    assert torch.equal(y, x + 1)  # targets are the next tokens
    assert x[0, 0] == 0 and y[-1, -1] == 99  # spread from the start to the very end
    with pytest.raises(
        ValueError, match=re.escape("data: expected at least 11 symbols for windows of 10 steps, got 10")
    ):
        lm_batch(ids[:10], 2, 10)


def test_compare_cells(tmp_path):
    text = "the quick brown fox jumps over the lazy dog. " * 20
    vocab = CharVocab.from_text(text)
    ids = vocab.encode(text)
    batch = lm_batch(ids, 3, 8)
    messages = []
    curves = compare_cells(
        ["rnn", "gru"],
        ids,
        batch,
        vocab,
        tmp_path,
        LanguageModelConfig.from_dict(dict(hidden_size=4, num_layers=1, embedding_size=3)),
        TrainConfig(max_steps=3, log_every=2, eval_every=3),
        batch_size=4,
        seq_len=8,
        log=messages.append,
    )
    assert [label for label, _ in curves] == ["rnn, untrained", "rnn, 3 steps", "gru, untrained", "gru, 3 steps"]
    assert all(flow.grad_h.shape == (1, 8) for _, flow in curves)
    assert not torch.equal(curves[0][1].grad_h, curves[1][1].grad_h)  # training changed the flow
    assert messages == [f"training the {c} model for 3 steps ({tmp_path / c})" for c in ("rnn", "gru")]
    records = [json.loads(line) for line in (tmp_path / "gru" / "metrics.jsonl").read_text().splitlines()]
    train = [r for r in records if r["kind"] == "train"]
    assert [len(r["grad_norms"]) for r in train] == [2]  # steps 1-2 (step 3 ends without a full interval)
    only_fresh = compare_cells(["lstm"], ids, batch, vocab, tmp_path, train_config=TrainConfig(max_steps=0))
    assert [label for label, _ in only_fresh] == ["lstm, untrained"]
