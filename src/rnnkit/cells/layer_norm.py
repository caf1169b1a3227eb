"""What the layer-norm cells share (``lstm_ln.py``, ``gru_ln.py``): the normalisation N, its
backward as torch's fused kernels, and the normalised input projection with its gradients.

    N(v) = (v - mean(v)) / sqrt(var(v) + eps)     over each row's features, eps = 1e-5
    input projection:  v_t = γ_x ⊙ N(W_ih x_t) + input bias
    its backward:      d_p = N-backward(d_v ⊙ γ_x, N(p)), p = W_ih x_t (recomputed from x: one
                       GEMM instead of caching (T, B, G*H));  dx = d_p W_ih,  dW_ih = Σ d_p^T x,
                       d_γ_x = Σ d_v ⊙ N(p)
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from rnnkit.cells.base import Param

EPS = 1e-5
#: torch's fused layer-norm backward: (d_out, v, shape, mean, 1/σ, γ, β, output mask)
LN_BACKWARD = torch.ops.aten.native_layer_norm_backward
INPUT_ONLY = (True, False, False)  # the input's gradient only (the gains' are summed after the loop)


def normalised_parameters(G: int, D: int, H: int) -> tuple[Param, ...]:
    """torch.nn's four parameters of a G-gate cell, then the two projections' gains (G*H,)."""
    return (
        Param("weight_ih", (G * H, D)),
        Param("weight_hh", (G * H, H)),
        Param("bias_ih", (G * H,), bias=True),
        Param("bias_hh", (G * H,), bias=True),
        Param("gamma_ih", (G * H,)),  # γ_x
        Param("gamma_hh", (G * H,)),  # γ_h
    )


def normalised_projection(x: Tensor, w: tuple, bias: Tensor | None) -> Tensor:
    """x (..., D) -> γ_x ⊙ N(x W_ih^T) + bias (..., G*H); γ_x is w[4]."""
    y = F.layer_norm(F.linear(x, w[0]), (w[0].shape[0],), eps=EPS) * w[4]
    return y if bias is None else y + bias


def projection_grads(x: Tensor, d_v: Tensor, w: tuple, need: tuple) -> tuple:
    """(dx, dW_ih, d_γ_x) from d_v (T*B, G*H), the gradient w.r.t. the normalised projection."""
    T, B, D = x.shape
    GH = d_v.shape[-1]
    x2 = x.reshape(T * B, D)
    p = x2 @ w[0].t()  # recomputed: (T*B, G*H)
    _, mean, inv = torch.native_layer_norm(p, (GH,), None, None, EPS)
    d_p, d_gamma, _ = LN_BACKWARD(d_v, p, (GH,), mean, inv, w[4], None, (True, True, False))
    d_x = (d_p @ w[0]).view(T, B, D) if need[0] else None
    d_w_ih = d_p.t() @ x2 if need[1] else None
    return d_x, d_w_ih, d_gamma
