"""NT-ASGD (issue 18; rnnkit.train.ntasgd): plain SGD until the trigger, the trigger's rule, the
average of the iterates after it, evaluation and the best checkpoint on the average, and a resume
that continues exactly (also with every recurrent regulariser on)."""

from __future__ import annotations

import pytest
import torch

from rnnkit.checkpoint import load_checkpoint
from rnnkit.train.ntasgd import NTASGD
from tests.train._compare import assert_same_checkpoint
from tests.train._toy import no_plots  # noqa: F401 (a fixture)
from tests.train.test_trainer import lm_trainer


def params(seed=0):
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(3, 2, generator=g).requires_grad_(), torch.randn(4, generator=g).requires_grad_()]


def grads(ps, k):
    for i, p in enumerate(ps):
        p.grad = torch.full_like(p, float(k + i)) * 0.1


def test_before_the_trigger_it_is_sgd():
    a, b = params(), params()
    ours, sgd = NTASGD(a, lr=0.5, weight_decay=0.01), torch.optim.SGD(b, lr=0.5, weight_decay=0.01)
    for k in range(5):
        grads(a, k)
        grads(b, k)
        ours.step()
        sgd.step()
    assert all(torch.equal(p, q) for p, q in zip(a, b)) and not ours.averaging


def test_the_trigger_fires_once_at_the_first_loss_worse_than_the_best_but_the_last_nonmono():
    opt = NTASGD(params(), lr=0.1, nonmono=2)
    fired = [opt.observe(loss, step) for step, loss in enumerate([5.0, 4.0, 3.0, 3.5, 3.2, 3.1, 2.0, 9.0])]
    # at 3.5 the history is [5, 4, 3]: all but the last 2 = [5], min 5: not worse. At 3.2 (history
    # [5, 4, 3, 3.5]) the min of [5, 4] is 4: not worse; at 3.1: min of [5, 4, 3] is 3: worse, fires
    assert fired == [False, False, False, False, False, True, False, False]
    assert opt.param_groups[0]["averaging_from"] == 5


def test_after_the_trigger_the_average_of_the_iterates_is_evaluated():
    ps = params()
    opt = NTASGD(ps, lr=0.5)
    opt.param_groups[0]["averaging_from"] = 0  # triggered
    iterates = []
    for k in range(4):
        grads(ps, k)
        opt.step()
        iterates.append([p.detach().clone() for p in ps])
    last = [p.detach().clone() for p in ps]
    with opt.averaged():
        for i, p in enumerate(ps):
            torch.testing.assert_close(p, torch.stack([it[i] for it in iterates]).mean(0))
    assert all(torch.equal(p, q) for p, q in zip(ps, last))  # the SGD iterate is back


def test_a_run_evaluates_and_keeps_the_average_as_best_and_resumes_exactly(tmp_path):
    settings = {"optimizer": "ntasgd", "lr": 1.0, "nonmono": 1, "eval_every": 2}
    model = {
        "weight_drop": 0.3,
        "variational": True,
        "zoneout": 0.1,
        "recurrent_dropout": 0.2,
        "embedding_dropout": 0.1,
    }
    full = lm_trainer(tmp_path / "full", max_steps=16, model=model, **settings)
    full.fit()
    assert full.optimizer.averaging  # a loss that fails to beat the best came within 8 evaluations
    best = load_checkpoint(tmp_path / "full" / "best.safetensors")
    latest = load_checkpoint(tmp_path / "full" / "latest.safetensors")
    assert best.meta["step"] == latest.meta["step"] == 16  # the last evaluation was the best
    with full.optimizer.averaged():
        average = {k: v.clone() for k, v in full.model.state_dict().items()}
    iterate = full.model.state_dict()
    assert all(torch.equal(best.model_state[k], average[k]) for k in average)  # best: the average
    assert all(torch.equal(latest.model_state[k], iterate[k]) for k in iterate)  # latest: SGD's iterate
    assert not torch.equal(average["rnn.weight_hh_l0"], iterate["rnn.weight_hh_l0"])

    lm_trainer(tmp_path / "part", max_steps=10, model=model, **settings).fit()
    resumed = lm_trainer(tmp_path / "part", max_steps=16, model=model, **settings)
    resumed.resume()
    resumed.fit()
    for checkpoint in ("latest.safetensors", "best.safetensors"):
        assert assert_same_checkpoint(tmp_path / "full" / checkpoint, tmp_path / "part" / checkpoint) > 10


@pytest.mark.parametrize("value", [0, -1, 2.5, True])
def test_a_bad_nonmono_is_refused(value):
    from rnnkit.train import TrainConfig

    with pytest.raises(ValueError) as e:
        TrainConfig(nonmono=value).validate()
    assert str(e.value) == f"train: expected nonmono to be an integer >= 1, got {value!r}"
