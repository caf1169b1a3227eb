"""rnnkit.layers.dropout (issue 14): 16 random bits per element on the CPU, the identity when off,
E[y] = x, gradients mask x scale, reproducible from the seed; and the same masks drawn by every
backend of a stacked Recurrent, so native, fused and autograd compute the same training step."""

import pytest
import torch

from rnnkit.layers import Dropout, Recurrent, RecurrentConfig, dropout

F32, F64 = torch.float32, torch.float64


def test_off_is_the_identity():
    x = torch.randn(5, 7)
    assert dropout(x, 0.0) is x
    assert dropout(x, 0.5, training=False) is x
    module = Dropout(0.5).eval()
    assert module(x) is x
    assert Dropout(0.0).train()(x) is x


def test_p_one_gives_zeros_and_zero_gradients():
    x = torch.randn(6, 5, requires_grad=True)
    y = dropout(x, 1.0)
    assert torch.equal(y, torch.zeros_like(x))
    y.sum().backward()
    assert torch.equal(x.grad, torch.zeros_like(x))


@pytest.mark.parametrize("p", [0.1, 0.5, 0.9])
def test_keep_rate_and_mean(p):
    torch.manual_seed(0)
    n = 1 << 20
    y = dropout(torch.ones(n), p)
    kept = y != 0
    q = 1 - round(p * 2**16) / 2**16
    assert abs(kept.float().mean().item() - (1 - p)) < 5 * (p * (1 - p) / n) ** 0.5 + 2**-17
    assert torch.allclose(y[kept], torch.full((), 1 / q))  # the kept elements carry the scale 1/q
    assert abs(y.mean().item() - 1.0) < 6 * (p / (1 - p) / n) ** 0.5  # E[y] = x


def test_a_given_scale_multiplies_the_kept_elements():
    torch.manual_seed(0)
    y = dropout(torch.ones(1 << 12, dtype=F64), 0.276, scale=1 / (1 - 0.276))
    assert set(torch.unique(y).tolist()) == {0.0, 1 / (1 - 0.276)}


def test_the_mean_over_many_draws_is_x():
    torch.manual_seed(1)
    x = torch.full((64,), 2.5, dtype=F64)
    mean = torch.stack([dropout(x, 0.3) for _ in range(4000)]).mean(0)
    assert torch.allclose(mean, x, atol=0.1)
    assert abs(mean.mean().item() - 2.5) < 0.02


def test_the_gradient_is_the_mask_times_the_scale():
    torch.manual_seed(2)
    x = (torch.rand(33, 17, dtype=F64) + 0.5).requires_grad_()
    y = dropout(x, 0.4)
    y.backward(torch.ones_like(y))
    assert torch.allclose(x.grad, (y / x).detach(), rtol=1e-15, atol=0)
    assert set(torch.unique(x.grad).tolist()) == {0.0, 2**16 / (2**16 - round(0.4 * 2**16))}


def test_the_same_seed_gives_the_same_mask():
    x = torch.randn(9, 11)
    torch.manual_seed(3)
    a = dropout(x, 0.5)
    b = dropout(x, 0.5)
    torch.manual_seed(3)
    assert torch.equal(dropout(x, 0.5), a)
    assert not torch.equal(a, b)  # the generator moved on


@pytest.mark.parametrize("shape", [(1,), (3,), (5, 3), (7, 3, 5), (2, 0, 3)])
def test_any_numel_keeps_the_shape(shape):
    x = torch.randn(shape)
    y = dropout(x, 0.5)
    assert y.shape == x.shape and y.dtype == x.dtype
    assert bool(((y == 0) | torch.isclose(y, 2 * x)).all())


def test_non_contiguous_inputs():
    base = torch.randn(8, 6, dtype=F64)
    x = base.t()  # (6, 8), not contiguous
    assert not x.is_contiguous()
    torch.manual_seed(4)
    y = dropout(x, 0.5)
    torch.manual_seed(4)
    y_contiguous = dropout(x.contiguous(), 0.5)
    assert torch.equal(y, y_contiguous)  # the mask follows the logical order
    assert bool(((y == 0) | (y == 2 * x)).all()) and y.dtype == F64


def test_module_repr_and_validation():
    assert repr(Dropout(0.25)) == "Dropout(p=0.25)"
    assert Dropout().p == 0.5
    for p in (-0.1, 1.5, float("nan")):
        with pytest.raises(ValueError) as caught:
            Dropout(p)
        assert str(caught.value) == f"dropout: expected p in [0, 1], got {p!r}"


# ----- every backend draws the same masks --------------------------------------------------------
T, B, D, H = 6, 4, 3, 8
LENGTHS = torch.tensor([4, 6, 2, 5])  # unsorted on purpose


def layer(cell: str, backend: str, dtype, bidirectional: bool) -> Recurrent:
    torch.manual_seed(0)
    cfg = RecurrentConfig(
        cell=cell,
        input_size=D,
        hidden_size=H,
        num_layers=2,
        dropout=0.3,
        bidirectional=bidirectional,
        backend=backend,
    )
    return Recurrent(cfg).to(dtype).train()


def run(cell, backend, dtype, bidirectional, lengths):
    module = layer(cell, backend, dtype, bidirectional)
    x = torch.randn(T, B, D, dtype=dtype, generator=torch.Generator().manual_seed(1), requires_grad=True)
    torch.manual_seed(5)
    out, final = module(x, lengths=lengths)
    states = list(final) if isinstance(final, tuple) else [final]
    if lengths is not None:  # the padding of a short sequence is no output
        out = out * (torch.arange(T)[:, None] < lengths[None, :]).to(dtype)[..., None]
    loss = (out * torch.linspace(-1, 1, out.numel(), dtype=dtype).view_as(out)).sum()
    loss = loss + sum((s * s).sum() for s in states)
    loss.backward()
    grads = [x.grad] + [p.grad for p in module.parameters()]
    return [out.detach(), *(s.detach() for s in states)], grads


@pytest.mark.parametrize("dtype", [F32, F64], ids=["f32", "f64"])
@pytest.mark.parametrize("lengths", [None, LENGTHS], ids=["full", "lengths"])
@pytest.mark.parametrize("bidirectional", [False, True], ids=["uni", "bi"])
@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_every_backend_draws_the_same_masks(cell, bidirectional, lengths, dtype):
    tol = {"rtol": 1e-5, "atol": 1e-5} if dtype == F32 else {"rtol": 1e-10, "atol": 1e-12}
    outs, grads = run(cell, "autograd", dtype, bidirectional, lengths)
    for backend in ("native", "fused"):
        other_outs, other_grads = run(cell, backend, dtype, bidirectional, lengths)
        for i, (a, b) in enumerate(zip(outs, other_outs)):
            assert torch.allclose(a, b, **tol), (backend, "output", i, (a - b).abs().max())
        for i, (a, b) in enumerate(zip(grads, other_grads)):
            assert torch.allclose(a, b, **tol), (backend, "grad", i, (a - b).abs().max())


def test_dropout_changes_the_output_only_in_training():
    module = layer("lstm", "autograd", F64, False)
    x = torch.randn(T, B, D, dtype=F64)
    torch.manual_seed(0)
    trained, _ = module(x)
    module.eval()
    a, _ = module(x)
    b, _ = module(x)
    assert torch.equal(a, b) and not torch.allclose(trained, a)
