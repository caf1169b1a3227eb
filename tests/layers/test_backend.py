"""Backend resolution (rnnkit.layers.backend.resolve, through Recurrent.resolved_backend): the
measured "auto" rule on the CPU, native on the GPU where torch has the cell, explicit choices kept."""

import pytest
import torch

from ..variants import VARIANTS
from ._layers import make

# ----- backend resolution --------------------------------------------------------------------
AUTO_ON_CPU = {  # (training, inference): the measured rule of Recurrent.resolved_backend
    "lstm": ("native", "native"),
    "gru": ("fused", "native"),
    "gru_reset_before": ("fused", "fused"),
    "rnn_tanh": ("fused", "fused"),
    "rnn_relu": ("fused", "fused"),
    "lstm_proj": ("fused", "fused"),  # oneDNN has no projection: torch falls back to its slower kernel
    "indrnn": ("fused", "fused"),  # torch.nn has no IndRNN
    "indrnn_bounded": ("fused", "fused"),
    "lnlstm": ("fused", "fused"),  # torch.nn has no layer-norm LSTM
    "lngru": ("fused", "fused"),
    "mingru": ("fused", "fused"),
    "minlstm": ("fused", "fused"),
}


@pytest.mark.parametrize("name", list(VARIANTS))
def test_auto_backend_follows_the_measured_rule_on_cpu(name):
    layer = make(VARIANTS[name], "auto", num_layers=1)
    training, inference = AUTO_ON_CPU[name]
    assert layer.resolved_backend(grad=True) == training
    assert layer.resolved_backend(grad=False) == inference
    with torch.no_grad():
        assert layer.resolved_backend() == inference
    assert layer.resolved_backend() == training  # parameters require grad, autograd records


@pytest.mark.parametrize("name", list(VARIANTS))
def test_auto_backend_is_native_on_gpu_where_torch_has_the_cell(name):
    layer = make(VARIANTS[name], "auto", num_layers=1)
    expected = "fused" if layer.cell.native is None else "native"  # the reset-before GRU, the IndRNN
    assert layer.resolved_backend(device=torch.device("cuda"), grad=True) == expected


@pytest.mark.parametrize("backend", ["fused", "autograd", "native"])
def test_explicit_backend_is_kept(backend):
    assert make(VARIANTS["lstm"], backend).resolved_backend() == backend
