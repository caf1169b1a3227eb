"""Layer-normalised LSTM (Ba, Kiros & Hinton 2016, "Layer Normalization", section 3.1 / eq. 20-22;
the formulation haste's LayerNormLSTM uses): layer norm on the input and the recurrent
pre-activations separately, each with its own gain, and on the cell state before the output tanh.

Forward, for one step (x_t: (B, D), h_{t-1}, c_{t-1}: (B, H)); N(v) = (v - mean(v)) / sqrt(var(v)
+ eps) over the features of each row, eps = 1e-5:

    a_t = γ_x ⊙ N(W_ih x_t) + γ_h ⊙ N(W_hh h_{t-1}) + b_ih + b_hh          (B, 4H)
    i, f, g, o = sigmoid(a_i), sigmoid(a_f), tanh(a_g), sigmoid(a_o)      as in the LSTM
    c_t = f ⊙ c_{t-1} + i ⊙ g
    h_t = o ⊙ tanh(γ_c ⊙ N(c_t) + β_c)

The two normalisations of the projections carry gains only (γ_x, γ_h: (4H,)): their biases would
add to b_ih + b_hh, so those stand for them. The cell state's has a gain and a bias (γ_c, β_c: (H,)),
which is why h_t is no longer bounded by o_t alone. The state c_t itself is not normalised: what
is carried to the next step is the plain c_t, as in Ba et al.

Backward through a gained normalisation y = γ ⊙ v̂, v̂ = N(v), σ = sqrt(var(v) + eps), given d_y:

    d_v̂ = d_y ⊙ γ
    d_v = (d_v̂ - mean(d_v̂) - v̂ ⊙ mean(d_v̂ ⊙ v̂)) / σ           (means over the row's features)
    d_γ = Σ_rows d_y ⊙ v̂

Per step, given d_h = dL/dh_t and d_c = dL/dc_t from step t+1 (tc = tanh(γ_c ⊙ ĉ_t + β_c)):

    d_z = d_h ⊙ o (1 - tc^2)                     z = γ_c ⊙ ĉ_t + β_c;  d_β_c, d_γ_c sum over it
    d_c += N-backward(d_z, γ_c, ĉ_t)              the cell state reaches h_t through the norm
    d_i, d_f, d_g = d_c ⊙ (g i(1-i), c_{t-1} f(1-f), i(1-g^2));   d_o = d_h ⊙ tc o(1-o)
    d_r = N-backward(d_a, γ_h, r̂_t)              r = W_hh h_{t-1}: the recurrent projection
    dL/dc_{t-1} = d_c ⊙ f;   dL/dh_{t-1} = d_r W_hh

After the loop, d_a of all steps gives d_b, d_γ_h = Σ d_a ⊙ r̂ and, through the input's
normalisation (recomputed from x: one GEMM), dx, dW_ih and d_γ_x; dW_hh = Σ_t d_r^T h_{t-1}.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from rnnkit.cells.base import FORGET_BIAS, Cell, Param
from rnnkit.cells.layer_norm import (
    EPS,
    INPUT_ONLY,
    LN_BACKWARD,
    normalised_parameters,
    normalised_projection,
    projection_grads,
)


class LayerNormLSTMCell(Cell):
    name = "lnlstm"
    gate_order = ("i", "f", "g", "o")
    has_cell_state = True
    options = {"forget_bias": FORGET_BIAS}
    without_native, why_not_native = "a layer-norm LSTM", "torch.nn has no layer-norm LSTM"

    def parameters(self, D, H):
        return (*normalised_parameters(4, D, H), Param("gamma_c", (H,)), Param("beta_c", (H,)))

    def reset_(self, w, recurrent_init="orthogonal", forget_bias=FORGET_BIAS):
        """The LSTM's initialisation (``Cell.reset_``), gains 1 and β_c 0: at the start every
        normalisation passes its input through unscaled."""
        super().reset_(w, recurrent_init, forget_bias)
        with torch.no_grad():
            for gain in w[4:7]:
                gain.fill_(1.0)
            w[7].zero_()

    def project(self, x, w, bias=None):
        """x (..., D) -> γ_x ⊙ N(x W_ih^T) + b_ih + b_hh (..., 4H)."""
        return normalised_projection(x, w, self.input_bias(w) if bias is None else bias)

    # ----- reference path -----------------------------------------------------------------------
    def step(self, x_proj, h, c, w):
        H = c.shape[1]
        a = x_proj + F.layer_norm(h @ w[1].t(), (4 * H,), eps=EPS) * w[5]  # (B, 4H)
        i, f = torch.sigmoid(a[:, : 2 * H]).chunk(2, dim=1)
        g = torch.tanh(a[:, 2 * H : 3 * H])
        o = torch.sigmoid(a[:, 3 * H :])
        c = torch.addcmul(f * c, i, g)  # c_t = f c_{t-1} + i g
        h = o * torch.tanh(F.layer_norm(c, (H,), eps=EPS) * w[6] + w[7])
        return h, c

    def gates(self, x_proj, h, c, w):
        H = c.shape[1]
        a = x_proj + F.layer_norm(h @ w[1].t(), (4 * H,), eps=EPS) * w[5]
        a_i, a_f, a_g, a_o = a.chunk(4, dim=1)
        return {"i": torch.sigmoid(a_i), "f": torch.sigmoid(a_f), "g": torch.tanh(a_g), "o": torch.sigmoid(a_o)}

    # ----- fused path ---------------------------------------------------------------------------
    # The normalisations run as torch's fused layer-norm kernels (``native_layer_norm`` and its
    # backward: one pass each, the same N as above); what they need from the forward (the
    # pre-normalisation r and c, each row's mean and 1/σ) is kept per step.
    def prepare(self, w):
        return w[1], w[1].t(), w[5], w[6], w[7]  # W_hh, W_hh^T, γ_h, γ_c, β_c

    def new_cache(self, T, B, H, like):
        # zeros: rows of finished sequences are read (times zero gradients) by the all-rows sums
        z = like.new_zeros
        stats = {k: z(T, B, 1) for k in ("rm", "rs", "cm", "cs")}  # means and 1/σ of r and c
        return {"r": z(T, B, 4 * H), "tc": z(T, B, H), **stats}

    def forward_step(self, a, h_prev, c_prev, h, c, cache, prep):
        H = c.shape[1]
        r = torch.mm(h_prev, prep[1], out=cache["r"])  # r = W_hh h_{t-1}, (n, 4H)
        r_hat, mean, inv = torch.native_layer_norm(r, (4 * H,), None, None, EPS)
        cache["rm"].copy_(mean)
        cache["rs"].copy_(inv)
        a.addcmul_(r_hat, prep[2])  # a = γ_x N(W_ih x) + b + γ_h N(W_hh h); overwritten with activations
        i, f, g, o = a.split(H, dim=1)
        a[:, : 2 * H].sigmoid_()
        g.tanh_()
        o.sigmoid_()
        torch.mul(f, c_prev, out=c)
        c.addcmul_(i, g)  # c_t = f c_{t-1} + i g
        z, mean, inv = torch.native_layer_norm(c, (H,), prep[3], prep[4], EPS)  # γ_c N(c_t) + β_c
        cache["cm"].copy_(mean)
        cache["cs"].copy_(inv)
        torch.tanh(z, out=cache["tc"])
        torch.mul(o, cache["tc"], out=h)

    def local_grads(self, A, H_all, C_all, cache):
        T, B, GH = A.shape
        H = GH // 4
        tc, c_prev = cache["tc"], C_all[:-1]
        i, f, g, o = A.view(T, B, 4, H).unbind(2)
        P = A.new_empty(T, B, 4, H)  # d(gate pre-activation) per unit of d_c (i, f, g) or d_h (o)
        torch.mul(g, i * (1 - i), out=P[:, :, 0])
        torch.mul(c_prev, f * (1 - f), out=P[:, :, 1])
        torch.mul(i, 1 - g * g, out=P[:, :, 2])
        torch.mul(tc, o * (1 - o), out=P[:, :, 3])
        Q = o * (1 - tc * tc)  # dz/dh: o (1 - tc^2)
        # dA, dZ: written per step for the active rows only, then summed over all rows
        return {"P": P, "Q": Q, "f": f, "c": C_all[1:], "dA": A.new_zeros(T, B, GH), "dZ": A.new_zeros(T, B, H)}

    def backward_step(self, d_h, d_c, d_ah, local, cache, prep, d_h_prev):
        n, H = d_h.shape
        P, d_z = local["P"], local["dZ"]
        torch.mul(d_h, local["Q"], out=d_z)  # dL/dz, z = γ_c ĉ + β_c
        d_cn = LN_BACKWARD(d_z, local["c"], (H,), cache["cm"], cache["cs"], prep[3], None, INPUT_ONLY)[0]
        d_c.add_(d_cn)  # total dL/dc_t: the cell state also reaches h_t through its norm
        d_a = local["dA"].view(n, 4, H)
        torch.mul(d_c.unsqueeze(1), P, out=d_a)  # d_i, d_f, d_g (slot 3 overwritten next)
        torch.mul(d_h, P[:, 3], out=d_a[:, 3])  # d_o
        d_r = LN_BACKWARD(local["dA"], cache["r"], (4 * H,), cache["rm"], cache["rs"], prep[2], None, INPUT_ONLY)
        d_ah.copy_(d_r[0])  # dL/dr
        d_c.mul_(local["f"])  # dL/dc_{t-1} = d_c f_t
        d_h_prev.addmm_(d_ah, prep[0])  # dL/dh_{t-1} += d_r W_hh   (n, 4H) @ (4H, H)

    def backward_weights(self, x, d_ah, d_H, H_all, local, cache, w, need):
        T, B, D = x.shape
        GH = d_ah.shape[-1]
        H = GH // 4
        d_A, d_Z = local["dA"].reshape(T * B, GH), local["dZ"].reshape(T * B, H)
        d_x, d_w_ih, d_gamma_ih = projection_grads(x, d_A, w, need)
        d_w_hh = self.weight_hh_grad(d_ah, H_all[:-1], cache) if need[2] else None
        d_b = d_A.sum(0) if w[2] is not None else None
        r_hat = (cache["r"] - cache["rm"]) * cache["rs"]  # N(r) of every step, (T, B, 4H)
        d_gamma_hh = (d_A * r_hat.reshape(T * B, GH)).sum(0)
        c_hat = (local["c"] - cache["cm"]) * cache["cs"]  # N(c_t), (T, B, H)
        d_gamma_c = (d_Z * c_hat.reshape(T * B, H)).sum(0)
        d_beta_c = d_Z.sum(0)
        d_b_hh = None if d_b is None else d_b.clone()
        return d_x, d_w_ih, d_w_hh, d_b, d_b_hh, d_gamma_ih, d_gamma_hh, d_gamma_c, d_beta_c
