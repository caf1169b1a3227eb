"""Layer-normalised GRU (Ba, Kiros & Hinton 2016; the formulation haste's LayerNormGRU uses): layer
norm on the input and the recurrent projections separately, each with its own gain, in torch.nn's
reset-after GRU.

Forward, for one step (x_t: (B, D), h_{t-1}: (B, H)); N(v) = (v - mean(v)) / sqrt(var(v) + eps)
over each row's 3H features, eps = 1e-5:

    v_t = γ_x ⊙ N(W_ih x_t) + b_ih                 (B, 3H): [v_r, v_z, v_n]
    u_t = γ_h ⊙ N(W_hh h_{t-1}) + b_hh             (B, 3H): [u_r, u_z, u_n]
    r_t = sigmoid(v_r + u_r),  z_t = sigmoid(v_z + u_z)
    n_t = tanh(v_n + r_t ⊙ u_n)
    h_t = (1 - z_t) ⊙ n_t + z_t ⊙ h_{t-1}

The normalisations' biases are the GRU's own b_ih and b_hh (b_hh stays inside the reset product,
as in torch.nn's form). h_t is a convex mix of n_t and h_{t-1}, so it needs no normalisation of
its own: it stays in (-1, 1).

Backward, given d_h = dL/dh_t (r, z, n the step's gates):

    d_n = d_h (1 - z) (1 - n^2);   d_z = d_h (h_{t-1} - n) z (1 - z);   d_r = d_n ⊙ u_n r (1 - r)
    d_v = [d_r, d_z, d_n]                  the input side's pre-activations
    d_u = [d_r, d_z, d_n ⊙ r]              the recurrent side's
    d_q = N-backward(d_u ⊙ γ_h, N(q))      q = W_hh h_{t-1}; N-backward as in the layer-norm LSTM
    dL/dh_{t-1} = d_h ⊙ z + d_q W_hh

After the loop: d_b_ih = Σ d_v, d_b_hh = Σ d_u, d_γ_h = Σ d_u ⊙ N(q), dW_hh = Σ d_q^T h_{t-1},
and through the input's normalisation (recomputed from x) dx, dW_ih and d_γ_x from d_v.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from rnnkit.cells import layer_norm as ln
from rnnkit.cells.base import Cell
from rnnkit.cells.gru import GRUSteps


class LayerNormGRUCell(GRUSteps, Cell):
    name = "lngru"
    gate_order = ("r", "z", "n")
    without_native, why_not_native = "a layer-norm GRU", "torch.nn has no layer-norm GRU"

    def parameters(self, D, H):
        return ln.normalised_parameters(3, D, H)

    def reset_(self, w, recurrent_init="orthogonal", forget_bias=1.0):
        """The GRU's initialisation (``Cell.reset_``), gains 1."""
        super().reset_(w, recurrent_init, forget_bias)
        with torch.no_grad():
            w[4].fill_(1.0)
            w[5].fill_(1.0)

    def input_bias(self, w):
        return w[2]  # b_hh enters inside the step (inside the reset product for n)

    def project(self, x, w, bias=None):
        """x (..., D) -> γ_x ⊙ N(x W_ih^T) + b_ih (..., 3H)."""
        return ln.normalised_projection(x, w, self.input_bias(w) if bias is None else bias)

    def _recurrent(self, h, w):
        u = F.layer_norm(h @ w[1].t(), (w[1].shape[0],), eps=ln.EPS) * w[5]
        return u if w[3] is None else u + w[3]

    # ----- reference path -----------------------------------------------------------------------
    def _gates(self, x_proj, h, w):
        v_r, v_z, v_n = x_proj.chunk(3, dim=1)
        u_r, u_z, u_n = self._recurrent(h, w).chunk(3, dim=1)
        r, z = torch.sigmoid(v_r + u_r), torch.sigmoid(v_z + u_z)
        return r, z, torch.tanh(v_n + r * u_n)

    # ----- fused path ---------------------------------------------------------------------------
    def prepare(self, w):
        return w[1], w[1].t(), w[3], w[5]  # W_hh, W_hh^T, b_hh, γ_h

    def new_cache(self, T, B, H, like):
        # zeros: rows of finished sequences are read (times zero gradients) by the all-rows sums
        z = like.new_zeros
        return {"q": z(T, B, 3 * H), "u": z(T, B, 3 * H), "qm": z(T, B, 1), "qs": z(T, B, 1)}

    def forward_step(self, a, h_prev, c_prev, h, c, cache, prep):
        H = h_prev.shape[1]
        q = torch.mm(h_prev, prep[1], out=cache["q"])  # q = W_hh h_{t-1}, (n, 3H)
        u, mean, inv = torch.native_layer_norm(q, (3 * H,), prep[3], prep[2], ln.EPS)  # γ_h N(q) + b_hh
        cache["u"].copy_(u)
        cache["qm"].copy_(mean)
        cache["qs"].copy_(inv)
        rz = a[:, : 2 * H].add_(u[:, : 2 * H]).sigmoid_()  # r, z; a holds v on entry
        r, z = rz[:, :H], rz[:, H:]
        n = a[:, 2 * H :].addcmul_(r, u[:, 2 * H :]).tanh_()
        torch.sub(h_prev, n, out=h)
        h.mul_(z).add_(n)  # h_t = n + z (h_{t-1} - n)

    def local_grads(self, A, H_all, C_all, cache):
        T, B, GH = A.shape
        H = GH // 3
        r, z, n = A.view(T, B, 3, H).unbind(2)
        u_n = cache["u"][:, :, 2 * H :]
        h_prev = H_all[:-1]
        P_n = (1 - z) * (1 - n * n)  # d_n per unit of d_h
        P_z = (h_prev - n) * z * (1 - z)  # d_z per unit of d_h
        P_r = u_n * r * (1 - r)  # d_r per unit of d_n
        # dV, dU: written per step for the active rows only, then summed over all rows
        return {"P_n": P_n, "P_z": P_z, "P_r": P_r, "r": r, "z": z,
                "dV": A.new_zeros(T, B, GH), "dU": A.new_zeros(T, B, GH)}  # fmt: skip

    def backward_step(self, d_h, d_c, d_ah, local, cache, prep, d_h_prev):
        n_rows, H = d_h.shape
        d_v, d_u = local["dV"], local["dU"]
        d_n = torch.mul(d_h, local["P_n"], out=d_v[:, 2 * H :])
        torch.mul(d_h, local["P_z"], out=d_v[:, H : 2 * H])
        torch.mul(d_n, local["P_r"], out=d_v[:, :H])
        d_u[:, : 2 * H].copy_(d_v[:, : 2 * H])  # d_r, d_z reach both sides alike
        torch.mul(d_n, local["r"], out=d_u[:, 2 * H :])  # u_n is multiplied by r
        d_q = ln.LN_BACKWARD(d_u, cache["q"], (3 * H,), cache["qm"], cache["qs"], prep[3], None, ln.INPUT_ONLY)[0]
        d_ah.copy_(d_q)  # dL/dq
        d_h_prev.addcmul_(d_h, local["z"])  # the direct path: h_t = ... + z h_{t-1}
        d_h_prev.addmm_(d_ah, prep[0])  # dL/dh_{t-1} += d_q W_hh   (n, 3H) @ (3H, H)

    def backward_weights(self, x, d_ah, d_H, H_all, local, cache, w, need):
        T, B, D = x.shape
        GH = d_ah.shape[-1]
        d_V, d_U = local["dV"].reshape(T * B, GH), local["dU"].reshape(T * B, GH)
        d_x, d_w_ih, d_gamma_ih = ln.projection_grads(x, d_V, w, need)
        d_w_hh = self.weight_hh_grad(d_ah, H_all[:-1], cache) if need[2] else None
        d_b_ih = d_V.sum(0) if w[2] is not None else None
        d_b_hh = d_U.sum(0) if w[3] is not None else None
        q_hat = (cache["q"] - cache["qm"]) * cache["qs"]  # N(q) of every step, (T, B, 3H)
        d_gamma_hh = (d_U * q_hat.reshape(T * B, GH)).sum(0)
        return d_x, d_w_ih, d_w_hh, d_b_ih, d_b_hh, d_gamma_ih, d_gamma_hh
