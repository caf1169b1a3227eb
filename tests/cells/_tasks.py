"""A small task the cell tests train on: recall the symbol seen two steps back (one-hot inputs)."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from rnnkit.layers import Recurrent, RecurrentConfig


def recall_accuracy(cell: str, hidden: int = 24, steps: int = 150, symbols: int = 5) -> float:
    """Train ``cell`` with a linear head on the task for ``steps`` Adam steps; its last accuracy."""
    torch.manual_seed(0)
    stack = Recurrent(RecurrentConfig(cell, symbols, hidden))
    head = torch.nn.Linear(hidden, symbols)
    opt = torch.optim.Adam([*stack.parameters(), *head.parameters()], lr=1e-2)
    seq = torch.randint(0, symbols, (20, 32))
    x = F.one_hot(seq, symbols).float()
    for _ in range(steps):
        logits = head(stack(x)[0])[2:]  # (T-2, B, symbols)
        loss = F.cross_entropy(logits.reshape(-1, symbols), seq[:-2].reshape(-1))
        opt.zero_grad()
        loss.backward()
        opt.step()
    return (logits.argmax(-1) == seq[:-2]).float().mean().item()
