"""The IndRNN (issue 18): its equations, the recurrent-weight bound and its gradient on both of our
backends, its initialisation, bad options, that it learns, and the CLI flag. (Gradcheck, fused ==
autograd, padded == per-sequence, chunked == whole and step == forward run for every registered
cell, this one included, in tests/cells and tests/layers.)"""

from __future__ import annotations

import json

import pytest
import torch

from rnnkit.cells import IndRNNCell
from rnnkit.layers import Recurrent, RecurrentConfig

F64 = torch.float64


def layer(backend: str, recurrent_max: float = 0.0, **kw) -> Recurrent:
    torch.manual_seed(0)
    config = RecurrentConfig("indrnn", 3, 5, backend=backend, recurrent_max=recurrent_max, **kw)
    return Recurrent(config).double()


def test_a_step_is_relu_of_the_projection_plus_the_unit_s_own_past():
    cell = IndRNNCell()
    g = torch.Generator().manual_seed(1)
    w = (torch.randn(5, 3, generator=g, dtype=F64), torch.randn(5, generator=g, dtype=F64),
         torch.randn(5, generator=g, dtype=F64), torch.randn(5, generator=g, dtype=F64))  # fmt: skip
    x, h = torch.randn(4, 3, generator=g, dtype=F64), torch.randn(4, 5, generator=g, dtype=F64)
    h_t, c_t = cell.step(cell.project(x, w), h, None, w)
    expected = torch.relu(x @ w[0].T + w[2] + w[3] + w[1] * h)
    assert c_t is None and torch.allclose(h_t, expected)


@pytest.mark.parametrize("backend", ["fused", "autograd"])
def test_the_bound_clips_the_weight_and_stops_its_gradient(backend):
    bounded = layer(backend, recurrent_max=0.5)
    with torch.no_grad():
        bounded.weight_hh_l0.copy_(torch.tensor([2.0, -3.0, 0.25, 0.5, -0.1], dtype=F64))
        bounded.bias_ih_l0.fill_(0.3)
    x = torch.randn(6, 2, 3, dtype=F64)
    free = layer(backend)
    free.load_state_dict(bounded.state_dict())
    with torch.no_grad():
        free.weight_hh_l0.clamp_(-0.5, 0.5)
    out = bounded(x)[0]
    assert torch.allclose(out, free(x)[0])  # computes with clip(u, -m, m)
    out.pow(2).sum().backward()
    g = bounded.weight_hh_l0.grad
    assert g[0] == 0 and g[1] == 0 and bool((g[2:] != 0).all())  # clipped units get no gradient


def test_fused_and_autograd_agree_on_the_bound_s_gradient():
    a, b = layer("fused", 0.5), layer("autograd", 0.5)
    with torch.no_grad():
        for m in (a, b):
            m.weight_hh_l0.copy_(torch.tensor([2.0, -3.0, 0.25, 0.5, -0.1], dtype=F64))
    x = torch.randn(6, 2, 3, dtype=F64)
    for m in (a, b):
        m(x)[0].sum().backward()
    for p, q in zip(a.parameters(), b.parameters()):
        torch.testing.assert_close(p.grad, q.grad)


@pytest.mark.parametrize("recurrent_max, top", [(0.0, 1.0), (0.8, 0.8)])
def test_the_recurrent_weights_start_inside_the_bound(recurrent_max, top):
    torch.manual_seed(0)
    stack = Recurrent(RecurrentConfig("indrnn", 4, 256, num_layers=2, recurrent_max=recurrent_max))
    for name in ("weight_hh_l0", "weight_hh_l1"):
        u = getattr(stack, name)
        assert u.shape == (256,) and 0 <= u.min() and u.max() <= top and u.max() > 0.9 * top
    assert stack.bias_ih_l1.abs().max() == 0


@pytest.mark.parametrize("value", [-0.5, float("nan"), float("inf"), True])
def test_a_bad_bound_is_refused(value):
    with pytest.raises(ValueError) as e:
        RecurrentConfig("indrnn", 3, 4, recurrent_max=value)
    assert str(e.value) == f"recurrent_max: expected a finite number >= 0 (0: no bound), got {value!r}"


def test_a_native_backend_is_refused_clearly():
    with pytest.raises(ValueError) as e:
        RecurrentConfig("indrnn", 3, 4, backend="native")
    assert str(e.value) == (
        "backend: expected 'auto', 'fused' or 'autograd' for an IndRNN (torch.nn has no such cell), got 'native'"
    )


def test_a_deep_indrnn_fits_a_small_sequence_task():
    """Three stacked layers learn to output, at every step, the sum of the last two inputs."""
    torch.manual_seed(0)
    stack = Recurrent(RecurrentConfig("indrnn", 1, 16, num_layers=3, recurrent_max=1.0))
    head = torch.nn.Linear(16, 1)
    opt = torch.optim.Adam([*stack.parameters(), *head.parameters()], lr=1e-2)
    x = torch.rand(20, 32, 1)
    y = x + torch.cat([torch.zeros(1, 32, 1), x[:-1]])
    first = None
    for _ in range(300):
        loss = torch.nn.functional.mse_loss(head(stack(x)[0]), y)
        first = first if first is not None else loss.item()
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert loss.item() < 0.02 * first


def test_the_cli_trains_and_samples_an_indrnn(tmp_path):
    from tests.cli._harness import cli

    (tmp_path / "t.txt").write_text("the cat sat on the mat and the dog sat on the log\n" * 30)
    run = ["--max-steps", "3", "--no-progress", "--device", "cpu", "--hidden-size", "12", "--num-layers", "2"]
    code, _, err = cli("train", tmp_path / "t.txt", "--cell", "indrnn", "--recurrent-max", "1.5",
                       "--sample-length", "0", "--run-dir", tmp_path / "r", *run)  # fmt: skip
    assert code == 0, err
    rnn = json.loads((tmp_path / "r" / "config.json").read_text())["model"]["rnn"]
    assert rnn["cell"] == "indrnn" and rnn["recurrent_max"] == 1.5
    assert cli("sample", tmp_path / "r", "--length", "5", "--seed", "1")[0] == 0
