"""Gradient flow of the three cells side by side: fresh, then after a little training.

Each cell gets the same character language model (same sizes, same seed), measured on the same
batch of T steps before training and again after ``train_steps`` steps of the ordinary trainer
(``rnnkit.train.Trainer``, per-step gradient norms in its metrics log). Untrained, the curves show
what the architecture and the initialisation do; briefly trained, how learning changes it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from rnnkit.diagnostics.gradient_flow import GradientFlow, gradient_flow
from rnnkit.models import LanguageModel, LanguageModelConfig
from rnnkit.tasks import LanguageModelTask
from rnnkit.train import TrainConfig, Trainer, seed_everything


def lm_batch(ids: np.ndarray, batch_size: int, steps: int) -> tuple[torch.Tensor, torch.Tensor]:
    """``batch_size`` windows of ``steps`` tokens, evenly spread over ``ids``: (inputs, targets),
    each (B, T) long, targets shifted by one.

    Raises:
        ValueError: fewer than steps + 1 tokens.
    """
    ids = np.asarray(ids)
    if len(ids) < steps + 1:
        raise ValueError(f"data: expected at least {steps + 1} symbols for windows of {steps} steps, got {len(ids)}")
    starts = np.linspace(0, len(ids) - steps - 1, num=batch_size).astype(np.int64)
    windows = np.stack([ids[s : s + steps + 1] for s in starts]).astype(np.int64)  # (B, T+1)
    x = torch.from_numpy(windows)
    return x[:, :-1].contiguous(), x[:, 1:].contiguous()


def compare_cells(
    cells: list[str],
    train_ids: np.ndarray,
    batch: tuple[torch.Tensor, torch.Tensor],
    vocab,
    run_dir,
    model_config: LanguageModelConfig | None = None,
    train_config: TrainConfig | None = None,
    batch_size: int = 32,
    seq_len: int = 50,
    log: Callable[[str], None] = lambda message: None,
) -> list[tuple[str, GradientFlow]]:
    """Gradient flow of a fresh and a briefly trained language model per cell.

    Args:
        cells: e.g. ["rnn", "lstm", "gru"].
        train_ids: token ids to train on; batch: the (inputs, targets) measured (see ``lm_batch``).
        vocab: the vocabulary of the ids (its size sets the model's; stored in the trained checkpoints).
        run_dir: each cell's training run goes to run_dir/<cell> (metrics.jsonl, curves.png, checkpoints).
        model_config: sizes etc. (vocab_size and cell are set here); default: 1 layer of 128 units.
        train_config: the training budget (default 200 steps, logged every step); max_steps=0 skips training.

    Returns:
        [(label, GradientFlow)]: "<cell>, untrained" and, if trained, "<cell>, <n> steps", per cell.
    """
    base = model_config or LanguageModelConfig.from_dict({"hidden_size": 128, "num_layers": 1, "embedding_size": 32})
    train_cfg = train_config or TrainConfig(max_steps=200, lr=3e-3, log_every=1, eval_every=200)
    vocab_size = len(vocab)
    curves = []
    for cell in cells:
        seed_everything(train_cfg.seed)
        rnn = dataclasses.replace(base.rnn, cell=cell)
        cfg = dataclasses.replace(base, rnn=rnn, vocab_size=vocab_size).validate()
        model = LanguageModel(cfg)
        curves.append((f"{cell}, untrained", gradient_flow(model, batch)))
        if not train_cfg.max_steps:
            continue
        log(f"training the {cell} model for {train_cfg.max_steps} steps ({Path(run_dir) / cell})")
        task = LanguageModelTask(train_ids, None, batch_size, seq_len, torch.device("cpu"))
        meta = {
            "model": {"kind": model.kind, "config": cfg.to_dict()},
            "vocab": vocab.to_dict(),
            "config": {"compare": cell},
        }
        summary = Trainer(model, task, train_cfg, Path(run_dir) / cell, meta, progress=False).fit()
        curves.append((f"{cell}, {summary['step']} steps", gradient_flow(model, batch)))
    return curves
