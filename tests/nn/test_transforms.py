"""torch's function transforms and batched gradients through a drop-in, on every backend: the fused
path hands a vmap-batched backward, and any torch.func transform, to the autograd reference. (torch.nn's
own RNN kernels have no vmap batching rule: there the references are computed without transforms,
and an explicitly requested "native" backend fails as torch.nn does.)"""

from __future__ import annotations

import pytest
import torch
from torch.func import functional_call, grad, jacrev, vmap

from ._dropin import BACKENDS, F64, pair

NAMES = ["RNN", "LSTM", "GRU"]


def first(out):
    return out[0]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name", NAMES)
def test_gradcheck_with_batched_gradients(name, backend):
    _, ours = pair(name, 3, 4, backend=backend)
    x = torch.randn(2, 3, dtype=F64, requires_grad=True)  # unbatched, as torch's module tests
    f = lambda x: torch.utils._pytree.tree_leaves(ours(x))  # noqa: E731
    assert torch.autograd.gradcheck(f, (x,), check_batched_grad=True)
    assert torch.autograd.gradgradcheck(f, (x,), check_batched_grad=True)


@pytest.mark.parametrize("backend", ["auto", "fused", "autograd"])
@pytest.mark.parametrize("name", NAMES)
def test_transforms_agree_with_torch(name, backend):
    theirs, ours = pair(name, 3, 4, 2, backend=backend, bidirectional=True)
    x = torch.randn(4, 2, 3, dtype=F64)
    jacobian = torch.autograd.functional.jacobian(lambda x: first(theirs(x)), x)
    torch.testing.assert_close(jacrev(lambda x: first(ours(x)))(x), jacobian)
    xs = torch.randn(5, 4, 3, dtype=F64)  # vmap over unbatched sequences
    torch.testing.assert_close(vmap(lambda x: first(ours(x)))(xs), torch.stack([first(theirs(x)) for x in xs]))
    params = {k: v.detach().requires_grad_() for k, v in ours.named_parameters()}
    loss = lambda m: lambda p: first(functional_call(m, p, (x,))).pow(2).sum()  # noqa: E731
    expected = torch.autograd.grad(loss(theirs)(params), list(params.values()))
    for g, e in zip(grad(loss(ours))(params).values(), expected):
        torch.testing.assert_close(g, e)
    y = first(ours(x.requires_grad_()))
    eye = torch.eye(y.numel(), dtype=F64).view(-1, *y.shape)
    (batched,) = torch.autograd.grad(y, x, eye, is_grads_batched=True)
    torch.testing.assert_close(batched.view(*y.shape, *x.shape), jacobian)


def test_a_requested_native_backend_fails_under_vmap_as_torch_does():
    _, ours = pair("GRU", 3, 4, backend="native")
    with pytest.raises(RuntimeError, match="Batching rule not implemented for aten::gru"):
        vmap(lambda x: first(ours(x)))(torch.randn(5, 4, 3, dtype=F64))


@pytest.mark.parametrize("name", ["RNNCell", "LSTMCell", "GRUCell"])
def test_a_cells_jacobian_through_jacrev(name):
    theirs, ours = pair(name, 3, 4)
    x = torch.randn(3, dtype=F64)
    J = lambda m: jacrev(lambda x: torch.utils._pytree.tree_leaves(m(x))[0])(x)  # noqa: E731
    torch.testing.assert_close(J(ours), J(theirs))
