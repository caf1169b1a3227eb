"""Learning-rate schedules (alone and in the trainer), optimisers, gradient clipping, TrainConfig."""

import dataclasses
import math
import re

import pytest
import torch
from torch import nn

from rnnkit.train import (
    EpochDecay,
    TrainConfig,
    clip_gradients,
    make_optimizer,
    make_scheduler,
)
from tests.train._toy import ToyTask, no_plots, records, toy_trainer  # noqa: F401 (no_plots: a fixture)


# ----- learning-rate schedules --------------------------------------------------------------------
def toy_optimizer(lr: float = 1.0):
    return torch.optim.SGD([nn.Parameter(torch.zeros(1))], lr=lr)


def test_epoch_decay_is_constant_then_geometric():
    opt = toy_optimizer()
    sched = EpochDecay(opt, start=3, gamma=0.5)
    lrs = []
    for _ in range(6):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    assert lrs == [1.0, 1.0, 1.0, 0.5, 0.25, 0.125]


def test_make_scheduler_kinds():
    cfg = TrainConfig(lr=1.0, lr_decay=0.1, lr_decay_every=2, lr_decay_start=1, patience=2)
    for schedule, cls, when in [
        ("step", torch.optim.lr_scheduler.StepLR, "step"),
        ("epoch", EpochDecay, "epoch"),
        ("plateau", torch.optim.lr_scheduler.ReduceLROnPlateau, "eval"),
    ]:
        sched, on = make_scheduler(toy_optimizer(), dataclasses.replace(cfg, lr_schedule=schedule))
        assert isinstance(sched, cls) and on == when
    assert make_scheduler(toy_optimizer(), cfg) == (None, "")


def test_step_schedule_in_the_trainer(tmp_path):
    toy_trainer(
        tmp_path,
        max_steps=7,
        lr=1.0,
        optimizer="sgd",
        momentum=0.0,
        lr_schedule="step",
        lr_decay=0.5,
        lr_decay_every=3,
        eval_every=100,
    ).fit()
    # the lr recorded at step s is the one in force after s scheduler steps
    assert [r["lr"] for r in records(tmp_path, "train")] == [1, 1, 0.5, 0.5, 0.5, 0.25, 0.25]


def test_epoch_schedule_in_the_trainer(tmp_path):
    toy_trainer(
        tmp_path,
        ToyTask(per_epoch=2),
        max_steps=8,
        lr=1.0,
        optimizer="sgd",
        lr_schedule="epoch",
        lr_decay=0.5,
        lr_decay_start=2,
        eval_every=100,
    ).fit()
    assert [r["lr"] for r in records(tmp_path, "train")] == [1, 1, 1, 0.5, 0.5, 0.25, 0.25, 0.125]


def test_plateau_schedule_in_the_trainer(tmp_path):
    """A flat validation loss: the lr halves after every ``patience`` evaluations without improvement."""
    trainer = toy_trainer(
        tmp_path,
        ToyTask(val=1.0),
        max_steps=6,
        lr=1.0,
        optimizer="sgd",
        lr_schedule="plateau",
        lr_decay=0.5,
        patience=2,
        eval_every=1,
    )
    trainer.fit()
    # evaluations: 1 best, 2 no gain, 3 no gain -> x0.5, 4 no gain, 5 no gain -> x0.5
    assert [r["lr"] for r in records(tmp_path, "train")] == [1, 1, 1, 0.5, 0.5, 0.25]


# ----- optimisers and clipping --------------------------------------------------------------------
@pytest.mark.parametrize(
    "name, cls",
    [
        ("adam", torch.optim.Adam),
        ("sgd", torch.optim.SGD),
        ("rmsprop", torch.optim.RMSprop),
        ("adagrad", torch.optim.Adagrad),
    ],
)
def test_make_optimizer(name, cls):
    opt = make_optimizer([nn.Parameter(torch.zeros(2))], TrainConfig(optimizer=name, lr=0.3, momentum=0.7))
    assert isinstance(opt, cls) and opt.param_groups[0]["lr"] == 0.3
    if name == "sgd":
        assert opt.param_groups[0]["momentum"] == 0.7


def with_grads(*grads):
    model = nn.Module()
    model.a = nn.Parameter(torch.zeros(len(grads[0])))
    model.b = nn.Parameter(torch.zeros(len(grads[1])))
    model.unused = nn.Parameter(torch.zeros(3))  # no gradient: ignored
    model.a.grad, model.b.grad = torch.tensor(grads[0]), torch.tensor(grads[1])
    return model


def test_clip_norm():
    model = with_grads([3.0, 0.0], [0.0, -4.0])  # global norm 5
    norm, clipped = clip_gradients(model, TrainConfig(clip_mode="norm", clip=1.0))
    assert norm == pytest.approx(5.0) and clipped
    torch.testing.assert_close(model.a.grad, torch.tensor([0.6, 0.0]))
    torch.testing.assert_close(model.b.grad, torch.tensor([0.0, -0.8]))
    model = with_grads([3.0, 0.0], [0.0, -4.0])
    norm, clipped = clip_gradients(model, TrainConfig(clip_mode="norm", clip=10.0))
    assert norm == pytest.approx(5.0) and not clipped
    assert torch.equal(model.b.grad, torch.tensor([0.0, -4.0]))


def test_clip_value():
    model = with_grads([3.0, 0.5], [0.0, -4.0])
    norm, clipped = clip_gradients(model, TrainConfig(clip_mode="value", clip=2.0))
    assert norm == pytest.approx(math.sqrt(9 + 0.25 + 16)) and clipped  # the norm before clipping
    assert torch.equal(model.a.grad, torch.tensor([2.0, 0.5]))
    assert torch.equal(model.b.grad, torch.tensor([0.0, -2.0]))
    model = with_grads([1.0, 0.5], [0.0, -1.5])
    assert clip_gradients(model, TrainConfig(clip_mode="value", clip=2.0))[1] is False


def test_clip_none():
    model = with_grads([30.0, 0.0], [0.0, -40.0])
    norm, clipped = clip_gradients(model, TrainConfig(clip_mode="none", clip=1.0))
    assert norm == pytest.approx(50.0) and not clipped
    assert torch.equal(model.a.grad, torch.tensor([30.0, 0.0]))


@pytest.mark.parametrize(
    "field, value, msg",
    [
        (
            "optimizer",
            "lbfgs",
            "train: expected optimizer in ('adam', 'adamw', 'sgd', 'rmsprop', 'adagrad', 'ntasgd'), got 'lbfgs'",
        ),
        ("clip_mode", "max", "train: expected clip_mode in ('norm', 'value', 'none'), got 'max'"),
        ("lr_schedule", "linear", "train: expected lr_schedule in ('none', 'step', 'epoch', 'plateau', 'cosine')"),
        ("lr", 0.0, "train: expected lr > 0, got 0.0"),
        ("lr_decay", 1.5, "train: expected lr_decay in (0, 1], got 1.5"),
        ("max_minutes", -1.0, "train: expected max_minutes >= 0, got -1.0"),
        ("max_steps", 2.5, "train: expected max_steps to be an integer >= 0, got 2.5"),
        ("log_every", 0, "train: expected log_every to be an integer >= 1, got 0"),
        ("eval_every", -1, "train: expected eval_every to be an integer >= 0, got -1"),
    ],
)
def test_train_config_validation(field, value, msg):
    with pytest.raises(ValueError, match=re.escape(msg)):
        TrainConfig(**{field: value}).validate()
