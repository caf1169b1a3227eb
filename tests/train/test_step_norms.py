"""Exploding gradients made visible: every step's global gradient norm and every clipped step are in
the metrics log, whatever the log interval, and the curves plot draws them per step."""

import json

import numpy as np
import pytest
import torch

from rnnkit.models import LanguageModel, LanguageModelConfig
from rnnkit.tasks import LanguageModelTask
from rnnkit.train import TrainConfig, Trainer
from rnnkit.train.metrics import _step_norms, plot_curves


def run(tmp_path, **train):
    torch.manual_seed(0)
    ids = np.random.default_rng(0).integers(0, 5, 400).astype(np.uint8)
    model = LanguageModel(
        LanguageModelConfig.from_dict(dict(vocab_size=5, hidden_size=8, num_layers=1, embedding_size=4))
    )
    task = LanguageModelTask(ids, ids[:60], 4, 10, torch.device("cpu"))
    cfg = TrainConfig(max_steps=7, eval_every=7, **train)
    Trainer(model, task, cfg, tmp_path, {"config": {}}, progress=False).fit()
    lines = (tmp_path / "metrics.jsonl").read_text().splitlines()
    return [r for r in map(json.loads, lines) if r["kind"] == "train"]


def test_every_step_norm_and_clipped_step_is_logged(tmp_path):
    records = run(tmp_path, log_every=3, clip=0.3)
    assert [r["step"] for r in records] == [3, 6]
    for r in records:
        assert len(r["grad_norms"]) == 3
        assert max(r["grad_norms"]) == pytest.approx(r["grad_norm"], rel=1e-5)  # 6 significant digits kept
        clipped = [s for s, n in zip(range(r["step"] - 2, r["step"] + 1), r["grad_norms"]) if n > 0.3]
        assert r["clipped_steps"] == clipped and r["clipped"] == len(clipped)
    steps = _step_norms(records)
    assert [s for s, _, _ in steps] == list(range(1, 7))
    assert [c for _, n, c in steps] == [n > 0.3 for _, n, _ in steps]
    assert (tmp_path / "curves.png").exists()


def test_curves_still_plot_records_without_per_step_norms(tmp_path):
    records = run(tmp_path, log_every=2)
    old = [{k: v for k, v in r.items() if k not in ("grad_norms", "clipped_steps")} for r in records]
    assert _step_norms(old) == []
    plot_curves(old, tmp_path / "old.png")
    assert (tmp_path / "old.png").read_bytes()[:4] == b"\x89PNG"
