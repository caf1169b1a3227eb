"""FusedRecurrence (the hand-derived BPTT of rnnkit.layers.fused) against finite differences.

Every registered cell variant, eager and (where it has one) kernel-backed, T = 4 steps, all rows
running or a descending ``batch_sizes`` (the packed layout the layer builds: rows past a sequence's
end are zero), with and without biases; every input (x, h0, c0) and every parameter is checked.
"""

import pytest
import torch

from rnnkit.layers import fused_recurrence

from ..variants import KERNEL_VARIANTS, cell_of, fused_cell_of, path_params, variant_params, weights

T, B, D, H = 4, 3, 3, 3
BATCH_SIZES = [3, 3, 2, 1]  # lengths 4, 3, 2


def _mask(batch_sizes):
    """(T, B, 1) float64: 1 where row b runs at step t."""
    if batch_sizes is None:
        return torch.ones(T, B, 1, dtype=torch.float64)
    return (torch.arange(B)[None, :] < torch.tensor(batch_sizes)[:, None]).unsqueeze(-1).double()


def _inputs(cell, batch_sizes, bias, seed=0):
    """[x, h0, c0, *w] (w as the cell declares it), float64, requiring grad. For relu, seeds are tried
    until every pre-activation of every running step is 1e-3 or more away from the kink."""
    relu = cell.name == "rnn" and cell.nonlinearity == "relu"
    mask = _mask(batch_sizes)
    for s in range(seed, seed + 100):
        g = torch.Generator().manual_seed(s)
        x = (torch.randn(T, B, D, dtype=torch.float64, generator=g) * mask).requires_grad_()
        h_size, c_size = cell.state_sizes(H)
        h0 = torch.randn(B, h_size, dtype=torch.float64, generator=g).requires_grad_()
        c0 = None
        if c_size is not None:
            c0 = torch.randn(B, c_size, dtype=torch.float64, generator=g).requires_grad_()
        w = weights(cell, D, H, bias=bias, generator=g)
        if relu:
            with torch.no_grad():
                Y, _, _ = fused_recurrence(cell, x, h0, c0, w, batch_sizes=batch_sizes)
                h_prev = torch.cat([h0[None], Y[:-1]])  # (T, B, H): h_0 .. h_{T-1}
                a = x @ w[0].t() + h_prev @ w[1].t()  # (T, B, H) pre-activations
                if bias:
                    a = a + w[2] + w[3]
            if (a.abs() + (1 - mask)).min() <= 1e-3:  # padded positions don't count
                continue
        return [x, h0, c0, *w]
    raise AssertionError("no seed kept relu's pre-activations away from 0")


def _run(cell, batch_sizes):
    def f(x, h0, c0, *w):
        Y, h_n, c_n = fused_recurrence(cell, x, h0, c0, w, batch_sizes=batch_sizes)
        return (Y, h_n) if c_n is None else (Y, h_n, c_n)

    return f


@pytest.mark.parametrize("bias", [True, False], ids=["bias", "no_bias"])
@pytest.mark.parametrize("batch_sizes", [None, BATCH_SIZES], ids=["full", "batch_sizes"])
@pytest.mark.parametrize("variant", variant_params())
def test_fused_backward_passes_gradcheck(variant, batch_sizes, bias):
    # The eager path (every device; the CPU too where no kernel builds).
    cell = cell_of(variant, H)
    inputs = _inputs(cell, batch_sizes, bias)
    assert torch.autograd.gradcheck(_run(cell, batch_sizes), inputs)


@pytest.mark.parametrize("bias", [True, False], ids=["bias", "no_bias"])
@pytest.mark.parametrize("batch_sizes", [None, BATCH_SIZES], ids=["full", "batch_sizes"])
@pytest.mark.parametrize("variant", variant_params(KERNEL_VARIANTS))
def test_kernel_variant_passes_gradcheck(variant, batch_sizes, bias):
    # On the CPU the LSTM and GRU (reset_after) steps run compiled kernels: the variant the layer picks.
    cell = fused_cell_of(variant, "kernel")
    inputs = _inputs(cell, batch_sizes, bias)
    assert torch.autograd.gradcheck(_run(cell, batch_sizes), inputs)


@pytest.mark.parametrize("variant", variant_params())
def test_states_past_a_sequence_end_are_zero_and_final_state_is_last_valid(variant):
    cell = cell_of(variant, H)
    x, h0, c0, *w = _inputs(cell, BATCH_SIZES, bias=True)
    Y, h_n, c_n = fused_recurrence(cell, x, h0, c0, w, batch_sizes=BATCH_SIZES)
    assert Y.shape == (T, B, cell.state_sizes(H)[0])
    assert (c_n is None) == (not cell.has_cell_state)
    assert torch.all(Y * (1 - _mask(BATCH_SIZES)) == 0)
    lengths = _mask(BATCH_SIZES)[:, :, 0].sum(0).long()  # (B,)
    for b in range(B):
        assert torch.equal(h_n[b], Y[lengths[b] - 1, b])


@pytest.fixture
def uninitialised_memory_is_nan():
    """torch.empty & co. return NaN-filled memory (deterministic mode), so a backward that reads
    a buffer it never wrote shows up as NaN instead of passing by luck."""
    previous = torch.are_deterministic_algorithms_enabled()
    torch.use_deterministic_algorithms(True)
    torch.utils.deterministic.fill_uninitialized_memory = True
    yield
    torch.use_deterministic_algorithms(previous)


@pytest.mark.parametrize(("variant", "path"), path_params())
def test_backward_reads_no_uninitialised_buffer(variant, path, uninitialised_memory_is_nan):
    # Regression: the reset-before GRU's weight_hh_grad multiplied zero gradients by the
    # never-written rows of its r*h cache (finished sequences); 0 * NaN poisoned dL/dW_hh.
    cell = fused_cell_of(variant, path, H)
    x, h0, c0, *w = _inputs(cell, BATCH_SIZES, bias=True)
    inputs = [x, h0, c0, *w]
    Y, h_n, c_n = fused_recurrence(cell, x, h0, c0, w, batch_sizes=BATCH_SIZES)
    loss = Y.sum() + h_n.sum() + (0 if c_n is None else c_n.sum())
    grads = torch.autograd.grad(loss, [t for t in inputs if t is not None])
    for g in grads:
        assert torch.isfinite(g).all()
