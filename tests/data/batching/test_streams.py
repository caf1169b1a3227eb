"""StreamBatcher: B contiguous streams read in windows of T steps, state carried across windows."""

import re

import numpy as np
import pytest
import torch
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from rnnkit.data import DataError, StreamBatcher


def raises(msg):
    """pytest.raises for a DataError whose message contains ``msg`` verbatim."""
    return pytest.raises(DataError, match=re.escape(msg))


def test_layout_of_the_docstring_example():
    b = StreamBatcher(np.arange(17), batch_size=2, seq_len=3)
    assert (len(b), b.stream_len, b.dropped, b.targets_per_epoch) == (3, 8, 1, 14)
    windows = [(x.tolist(), y.tolist()) for x, y in b]
    assert windows == [
        ([[0, 1, 2], [8, 9, 10]], [[1, 2, 3], [9, 10, 11]]),
        ([[3, 4, 5], [11, 12, 13]], [[4, 5, 6], [12, 13, 14]]),
        ([[6], [14]], [[7], [15]]),
    ]


@pytest.mark.parametrize("N, B, T", [(100, 4, 5), (101, 3, 7), (24, 4, 5), (10, 5, 3)])
def test_which_ids_land_where(N, B, T):
    b = StreamBatcher(np.arange(N, dtype=np.uint16), B, T)
    L = N // B
    assert len(b) == -(-(L - 1) // T)
    for k, (x, y) in enumerate(b):
        Tk = min(T, L - 1 - k * T)
        assert Tk >= 1 and x.shape == y.shape == (B, Tk)
        assert x.dtype == y.dtype == torch.long
        # stream b, window k, step t holds id b*L + k*T + t
        expected = np.arange(B)[:, None] * L + k * T + np.arange(Tk)[None, :]
        np.testing.assert_array_equal(x.numpy(), expected)
        np.testing.assert_array_equal(y.numpy(), expected + 1)  # y is x one step ahead


def test_state_carry_continuity_across_windows():
    rng = np.random.default_rng(0)
    b = StreamBatcher(rng.integers(0, 50, size=500).astype(np.uint8), batch_size=4, seq_len=6)
    windows = list(b)
    for (_, y_prev), (x_next, _) in zip(windows, windows[1:]):
        assert torch.equal(x_next[:, 0], y_prev[:, -1])


def test_last_window_full_when_t_divides_the_input_steps():
    b = StreamBatcher(np.arange(22), batch_size=2, seq_len=5)  # L = 11, 10 input steps
    assert len(b) == 2 and b.window(1)[0].shape == (2, 5)


def test_iter_from_resumes_exactly():
    b = StreamBatcher(np.arange(60), batch_size=3, seq_len=4)  # L = 20, 5 windows
    full = list(b)
    for k in range(len(b) + 1):
        resumed = list(b.iter_from(k))
        assert len(resumed) == len(b) - k
        for (x1, y1), (x2, y2) in zip(resumed, full[k:]):
            assert torch.equal(x1, x2) and torch.equal(y1, y2)
    for k in range(len(b)):
        assert torch.equal(b.window(k)[0], full[k][0])


def test_window_and_resume_index_out_of_range():
    b = StreamBatcher(np.arange(60), batch_size=3, seq_len=4)
    with raises("data: window 5 is out of range; expected 0 <= window <= 4"):
        b.window(5)
    with raises("data: start window -1 is out of range; expected 0 <= start window <= 5"):
        b.iter_from(-1)


def test_streams_are_a_view_in_the_compact_dtype():
    ids = np.arange(30, dtype=np.uint8)
    b = StreamBatcher(ids, batch_size=4, seq_len=2)
    assert b.streams.shape == (4, 7) and b.streams.dtype == np.uint8 and np.shares_memory(b.streams, ids)


def test_too_little_data_for_the_batch_size():
    msg = (
        "data: 37 tokens give fewer than 2 tokens per stream for batch size 32; "
        "expected at least 64 tokens, use a smaller --batch-size"
    )
    with raises(msg):
        StreamBatcher(np.arange(37), batch_size=32, seq_len=10)
    StreamBatcher(np.arange(64), batch_size=32, seq_len=10)  # exactly enough: one 1-step window


@pytest.mark.parametrize(
    "kwargs, msg",
    [
        ({"batch_size": 0}, "data: expected batch size >= 1, got 0"),
        ({"seq_len": -2}, "data: expected sequence length >= 1, got -2"),
        ({"batch_size": 2.0}, "data: expected batch size to be an integer >= 1, got 2.0"),
        ({"seq_len": True}, "data: expected sequence length to be an integer >= 1, got True"),
        ({"ids": [1, 2, 3]}, "data: expected ids as a 1-D numpy integer array, got list"),
        ({"ids": np.zeros((4, 4), dtype=np.int64)}, "got shape (4, 4) dtype int64"),
        ({"ids": np.zeros(8)}, "got shape (8,) dtype float64"),
    ],
)
def test_bad_arguments(kwargs, msg):
    args = {"ids": np.arange(100), "batch_size": 2, "seq_len": 3, **kwargs}
    with raises(msg):
        StreamBatcher(**args)


@settings(max_examples=40, deadline=None)
@given(st.integers(2, 80), st.integers(1, 6), st.integers(1, 9))
def test_windows_cover_each_stream_contiguously(N, B, T):
    assume(N >= 2 * B)
    ids = np.random.default_rng(N).integers(0, 256, size=N).astype(np.uint8)
    b = StreamBatcher(ids, B, T)
    L = N // B
    xs, ys = zip(*b)
    streams = ids[: B * L].reshape(B, L)
    np.testing.assert_array_equal(torch.cat(xs, dim=1).numpy(), streams[:, :-1])
    np.testing.assert_array_equal(torch.cat(ys, dim=1).numpy(), streams[:, 1:])
