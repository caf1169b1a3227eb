"""Long short-term memory (Hochreiter & Schmidhuber 1997, with the forget gate of Gers et al. 2000).

Forward, for one step (x_t: (B, D), h_{t-1}, c_{t-1}: (B, H)); a_* are pre-activations:

    i_t = sigmoid(a_i)      a_i = W_ii x_t + b_ii + W_hi h_{t-1} + b_hi      input gate
    f_t = sigmoid(a_f)      a_f = W_if x_t + b_if + W_hf h_{t-1} + b_hf      forget gate
    g_t = tanh(a_g)         a_g = W_ig x_t + b_ig + W_hg h_{t-1} + b_hg      candidate
    o_t = sigmoid(a_o)      a_o = W_io x_t + b_io + W_ho h_{t-1} + b_ho      output gate
    c_t = f_t * c_{t-1} + i_t * g_t
    h_t = o_t * tanh(c_t)

Backward, given d_h = dL/dh_t (from the output and from step t+1) and d_c = dL/dc_t from
step t+1 (derivation in docs/EQUATIONS.md):

    d_c  += d_h * o_t * (1 - tanh(c_t)^2)          the cell state also reaches h_t
    d_o   = d_h * tanh(c_t) * o_t (1 - o_t)
    d_i   = d_c * g_t * i_t (1 - i_t)
    d_f   = d_c * c_{t-1} * f_t (1 - f_t)
    d_g   = d_c * i_t * (1 - g_t^2)
    dL/dc_{t-1} = d_c * f_t
    dL/dh_{t-1} = [d_i, d_f, d_g, d_o] W_hh

Every factor right of d_h / d_c depends only on saved activations, so ``local_grads`` forms them
for all steps at once; the loop then costs five ops per step.

On the CPU the fused path runs the compiled kernel variant instead (``kernel_cells.KernelLSTMCell``:
the same equations, one pass over memory per step).
"""

from __future__ import annotations

import torch

from rnnkit.cells.base import FORGET_BIAS, Cell


class LSTMCell(Cell):
    name = "lstm"
    gate_order = ("i", "f", "g", "o")
    has_cell_state = True
    options = {"forget_bias": FORGET_BIAS}
    torch_module, native, native_cell = "LSTM", "lstm", "lstm_cell"
    auto_on_cpu = ("native", "native")  # oneDNN's LSTM beats our fused loop on the CPU

    def step(self, x_proj, h, c, w):
        w_hh = w[1]
        H = c.shape[1]
        a = torch.addmm(x_proj, h, w_hh.t())  # (B, 4H); b_hh is folded into x_proj
        i, f = torch.sigmoid(a[:, : 2 * H]).chunk(2, dim=1)  # input and forget gates, 2 x (B, H)
        g = torch.tanh(a[:, 2 * H : 3 * H])
        o = torch.sigmoid(a[:, 3 * H :])
        c = torch.addcmul(f * c, i, g)  # c_t = f c_{t-1} + i g
        h = o * torch.tanh(c)
        return h, c

    def gates(self, x_proj, h, c, w):
        # The equations of step, stopping at the gates (tests check the two agree).
        a = torch.addmm(x_proj, h, w[1].t())  # (B, 4H)
        a_i, a_f, a_g, a_o = a.chunk(4, dim=1)  # 4 x (B, H)
        return {"i": torch.sigmoid(a_i), "f": torch.sigmoid(a_f), "g": torch.tanh(a_g), "o": torch.sigmoid(a_o)}

    def new_cache(self, T, B, H, like):
        return {"tc": like.new_empty(T, B, H)}  # tanh(c_t)

    def forward_step(self, a, h_prev, c_prev, h, c, cache, prep):
        H = c.shape[1]
        a.addmm_(h_prev, prep[1])  # a = W_ih x_t + b + W_hh h_{t-1}; overwritten with activations
        tc = cache["tc"]
        i, f, g, o = a.split(H, dim=1)  # (B, 4H) -> 4 x (B, H)
        a[:, : 2 * H].sigmoid_()  # i, f
        g.tanh_()
        o.sigmoid_()
        torch.mul(f, c_prev, out=c)
        c.addcmul_(i, g)  # c_t = f c_{t-1} + i g
        torch.tanh(c, out=tc)
        torch.mul(o, tc, out=h)  # h_t = o tanh(c_t)

    def local_grads(self, A, H_all, C_all, cache):
        T, B, GH = A.shape
        H = GH // 4
        tc, c_prev = cache["tc"], C_all[:-1]
        i, f, g, o = A.view(T, B, 4, H).unbind(2)  # each (T, B, H)
        # s (1 - s) is formed as addcmul(s, s, s, value=-1): one pass instead of two.
        P = A.new_empty(T, B, 4, H)  # d(gate pre-activation) per unit of d_c (i, f, g) or d_h (o)
        torch.mul(g, torch.addcmul(i, i, i, value=-1), out=P[:, :, 0])  # g i (1 - i)
        torch.mul(c_prev, torch.addcmul(f, f, f, value=-1), out=P[:, :, 1])  # c_{t-1} f (1 - f)
        torch.addcmul(i, i * g, g, value=-1, out=P[:, :, 2])  # i (1 - g^2)
        torch.mul(tc, torch.addcmul(o, o, o, value=-1), out=P[:, :, 3])  # tanh(c_t) o (1 - o)
        P_c = torch.addcmul(o, o * tc, tc, value=-1)  # (T, B, H): o (1 - tanh(c_t)^2), dc_t/dh_t path
        return {"P": P, "P_c": P_c, "f": f}

    def backward_step(self, d_h, d_c, d_ah, local, cache, prep, d_h_prev):
        n, H = d_h.shape
        P = local["P"]
        d_c.addcmul_(d_h, local["P_c"])  # total dL/dc_t
        d_a = d_ah.view(n, 4, H)  # (B, 4H) -> (B, 4, H)
        torch.mul(d_c.unsqueeze(1), P, out=d_a)  # d_i, d_f, d_g (slot 3 is overwritten next:
        torch.mul(d_h, P[:, 3], out=d_a[:, 3])  # d_o)   one contiguous write beats a strided one
        d_c.mul_(local["f"])  # dL/dc_{t-1} = d_c f_t
        d_h_prev.addmm_(d_ah, prep[0])  # dL/dh_{t-1} += d_a W_hh   (B, 4H) @ (4H, H)
