"""Exact resume: save mid-training, load into fresh objects, continue == never stopped (torch.equal).

The loop draws from all three global RNGs (python picks the length, numpy an offset, torch the tokens
and the dropout masks), so a resume that forgot any generator, optimiser buffer or scheduler counter
would drift.
"""

import random

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from rnnkit.checkpoint import capture_rng_state, load_checkpoint, restore_rng_state, save_checkpoint

V, H = 11, 8


class Tiny(nn.Module):
    """Embedding tied to the output layer, a GRU and dropout: every kind of state a real LM has."""

    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(V, H)
        self.rnn = nn.GRU(H, H, batch_first=True)
        self.drop = nn.Dropout(0.3)
        self.out = nn.Linear(H, V)
        self.out.weight = self.emb.weight

    def forward(self, x):
        h, _ = self.rnn(self.drop(self.emb(x)))  # (B, T) -> (B, T, H)
        return self.out(self.drop(h))  # (B, T, V)


def train(model, opt, sched, steps):
    for _ in range(steps):
        T = random.randint(3, 6)
        offset = int(np.random.randint(0, V))
        x = (torch.randint(0, V, (2, T + 1)) + offset) % V  # (B, T+1)
        loss = F.cross_entropy(model(x[:, :-1]).reshape(-1, V), x[:, 1:].reshape(-1))
        opt.zero_grad()
        loss.backward()
        opt.step()
        if isinstance(sched, torch.optim.lr_scheduler.ReduceLROnPlateau):
            sched.step(loss.item())
        elif sched is not None:
            sched.step()


OPTIMIZERS = {
    "adam": lambda p: torch.optim.Adam(p, lr=0.05),
    "adamw-amsgrad": lambda p: torch.optim.AdamW(p, lr=0.05, amsgrad=True),
    "sgd-momentum": lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True),
    "rmsprop": lambda p: torch.optim.RMSprop(p, lr=0.01, momentum=0.5, centered=True),
    "adagrad": lambda p: torch.optim.Adagrad(p, lr=0.1),
}
SCHEDULERS = {
    "none": lambda o: None,
    "step": lambda o: torch.optim.lr_scheduler.StepLR(o, step_size=2, gamma=0.5),
    "plateau": lambda o: torch.optim.lr_scheduler.ReduceLROnPlateau(o, factor=0.5, patience=0),
    "cosine": lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=5),
}


def build(opt_name, sched_name, seed):
    torch.manual_seed(seed)
    model = Tiny()
    opt = OPTIMIZERS[opt_name](model.parameters())
    return model, opt, SCHEDULERS[sched_name](opt)


@pytest.mark.parametrize(
    "opt_name, sched_name",
    [
        ("adam", "step"),
        ("adamw-amsgrad", "none"),
        ("sgd-momentum", "plateau"),
        ("rmsprop", "cosine"),
        ("adagrad", "step"),
        ("adam", "plateau"),
    ],
)
def test_resume_is_bit_exact(tmp_path, opt_name, sched_name):
    torch.manual_seed(0), random.seed(0), np.random.seed(0)
    model, opt, sched = build(opt_name, sched_name, seed=0)
    train(model, opt, sched, 3)  # odd, so a scheduler restarted from zero would step at other times
    save_checkpoint(
        tmp_path / "ck",
        model.state_dict(),
        {"step": 3},
        opt.state_dict(),
        None if sched is None else sched.state_dict(),
    )
    train(model, opt, sched, 4)  # the run that never stopped

    random.seed(99), np.random.seed(99)  # a new process would start from anything
    fresh, fresh_opt, fresh_sched = build(opt_name, sched_name, seed=1)
    ck = load_checkpoint(tmp_path / "ck")
    fresh.load_state_dict(ck.model_state)
    fresh_opt.load_state_dict(ck.optimizer_state)
    if fresh_sched is not None:
        fresh_sched.load_state_dict(ck.scheduler_state)
    restore_rng_state(ck.rng_state)
    train(fresh, fresh_opt, fresh_sched, 4)

    for (name, p), q in zip(model.named_parameters(), fresh.parameters()):
        assert torch.equal(p, q), name
    assert fresh.out.weight is fresh.emb.weight
    assert opt.param_groups[0]["lr"] == fresh_opt.param_groups[0]["lr"]
    for s, t in zip(opt.state.values(), fresh_opt.state.values()):
        assert s.keys() == t.keys()
        assert all(torch.equal(torch.as_tensor(s[k]), torch.as_tensor(t[k])) for k in s)


def test_optimizer_state_comes_back_with_its_types(tmp_path):
    model = nn.Linear(2, 2)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, betas=(0.8, 0.9))
    model(torch.randn(3, 2)).sum().backward()
    opt.step()
    ck = load_checkpoint(save_checkpoint(tmp_path / "ck", model.state_dict(), {}, opt.state_dict()))
    saved, back = opt.state_dict(), ck.optimizer_state
    assert back["param_groups"] == saved["param_groups"]
    group = back["param_groups"][0]
    assert group["betas"] == (0.8, 0.9) and isinstance(group["betas"], tuple)
    assert group["foreach"] is None and group["amsgrad"] is False and isinstance(group["eps"], float)
    assert list(back["state"]) == [0, 1]  # int param ids, not "0", "1"
    for pid, entry in saved["state"].items():
        for k, v in entry.items():
            assert back["state"][pid][k].dtype == v.dtype and torch.equal(back["state"][pid][k], v)


@pytest.mark.parametrize(
    "make",
    [
        lambda o: torch.optim.lr_scheduler.StepLR(o, step_size=3, gamma=0.1),
        lambda o: torch.optim.lr_scheduler.ReduceLROnPlateau(o, mode="max", patience=1),
    ],
)
def test_scheduler_state_round_trips(tmp_path, make):
    opt = torch.optim.SGD([nn.Parameter(torch.ones(1))], lr=0.1)
    sched = make(opt)
    for metric in (1.0, 0.5, 0.7):
        opt.step()
        sched.step(metric) if isinstance(sched, torch.optim.lr_scheduler.ReduceLROnPlateau) else sched.step()
    ck = load_checkpoint(save_checkpoint(tmp_path / "ck", {}, {}, opt.state_dict(), sched.state_dict()))
    assert ck.scheduler_state == sched.state_dict()
    other = make(torch.optim.SGD([nn.Parameter(torch.ones(1))], lr=0.1))
    other.load_state_dict(ck.scheduler_state)
    assert other.state_dict() == sched.state_dict()


def draws():
    return (torch.rand(3), torch.randn(2), random.random(), random.gauss(0, 1), np.random.rand(2), np.random.randn())


def assert_same_draws(a, b):
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1]) and a[2:4] == b[2:4]
    assert np.array_equal(a[4], b[4]) and a[5] == b[5]


def test_capture_then_restore_replays_every_generator():
    random.gauss(0, 1), np.random.randn()  # leave a cached gaussian in python and numpy
    state = capture_rng_state()
    first = draws()
    restore_rng_state(state)
    assert_same_draws(draws(), first)


def test_rng_state_survives_a_checkpoint(tmp_path):
    random.gauss(0, 1), np.random.randn()
    save_checkpoint(tmp_path / "ck", {}, {})
    first = draws()
    torch.manual_seed(5), random.seed(5), np.random.seed(5)
    restore_rng_state(load_checkpoint(tmp_path / "ck").rng_state)
    assert_same_draws(draws(), first)


def test_restore_rejects_a_malformed_state():
    with pytest.raises(ValueError, match="expected a dict with keys 'torch', 'python', 'numpy'"):
        restore_rng_state({"torch": torch.get_rng_state()})
    good = capture_rng_state()
    with pytest.raises(ValueError, match="expected 'torch' to be a uint8 tensor, got a torch.float32 tensor"):
        restore_rng_state({**good, "torch": torch.zeros(3)})
    with pytest.raises(ValueError, match="malformed"):
        restore_rng_state({**good, "numpy": {"key": [1, 2]}})
