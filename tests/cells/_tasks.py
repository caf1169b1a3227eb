"""What the cell tests share: a small task to train on (recall the symbol seen two steps back,
one-hot inputs), and the fused-against-autograd check of a layer-norm cell's gains."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from rnnkit.layers import Recurrent, RecurrentConfig


def recall_accuracy(cell: str, hidden: int = 24, steps: int = 150, symbols: int = 5, layers: int = 1) -> float:
    """Train ``cell`` with a linear head on the task for ``steps`` Adam steps; its last accuracy."""
    torch.manual_seed(0)
    stack = Recurrent(RecurrentConfig(cell, symbols, hidden, num_layers=layers))
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


def assert_gain_gradients_match(cell: str) -> dict:
    """A 2-layer bidirectional ``cell`` with its gains/biases of the normalisations moved away from
    their start (so each one matters): the fused path's gradients of every parameter equal
    autograd's, with lengths. Returns the layer's state_dict as built (before the gains moved)."""
    torch.manual_seed(0)
    fused = Recurrent(RecurrentConfig(cell, 3, 5, num_layers=2, bidirectional=True, backend="fused")).double()
    fresh = {k: v.clone() for k, v in fused.state_dict().items()}
    with torch.no_grad():
        for name, p in fused.named_parameters():
            if name.startswith(("gamma", "beta")):
                p.copy_(torch.linspace(0.5, 1.5, p.numel(), dtype=torch.float64))
    reference = Recurrent(fused.config, backend="autograd").double()
    reference.load_state_dict(fused.state_dict())
    x = torch.randn(6, 2, 3, dtype=torch.float64)
    for m in (fused, reference):
        m(x, lengths=torch.tensor([6, 3]))[0].pow(2).sum().backward()
    for (name, p), q in zip(fused.named_parameters(), reference.parameters()):
        torch.testing.assert_close(p.grad, q.grad, msg=name)
    return fresh
