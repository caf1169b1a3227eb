// One layer-norm LSTM time step, forward and hand-derived backward, each ONE pass over each row:
// the same equations as rnnkit/cells/lstm_ln.py (docs/EQUATIONS.md 3.8), after torch's GEMM of the
// recurrent projection. Built and loaded like lstm_step.cpp (layer_norm.h: the normalisation).
//
// Layout (row-major, contiguous; n rows still running at this step, H units, N(v) = (v - mean) / σ
// over a row, σ = sqrt(var + eps)):
//   a      (n, 4H)  forward: γ_x N(W_ih x) + b on entry, activations [i|f|g|o] on exit
//   r      (n, 4H)  W_hh h_{t-1} (torch's GEMM), kept for the backward
//   rm, rs, cm, cs (n)  mean and 1/σ of r and of c_t
//   c_prev, c, tc, h (n, H)   tc = tanh(γ_c N(c_t) + β_c)
//
// Forward:  a += γ_h N(r);  i, f, o = sigmoid, g = tanh;  c = f c_prev + i g;  h = o tanh(γ_c N(c) + β_c)
// Backward (d_h = dL/dh_t; d_c = dL/dc_t from step t+1, in place to dL/dc_{t-1}):
//   d_z = d_h o (1 - tc^2)                                 -> dZ (the gains' sums, after the loop)
//   d_c += (d_ĉ - mean(d_ĉ) - ĉ mean(d_ĉ ĉ)) / σ_c,  d_ĉ = d_z γ_c
//   d_a = [d_c g i(1-i), d_c c_prev f(1-f), d_c i (1-g^2), d_h tc o(1-o)]   -> dA
//   d_r = (d_r̂ - mean(d_r̂) - r̂ mean(d_r̂ r̂)) / σ_r,  d_r̂ = d_a γ_h            -> d_ah
//   d_c *= f                                              (then torch: dL/dh_{t-1} += d_r W_hh)

#include "layer_norm.h"

namespace {

using rnnkit::kParallelMin;
using rnnkit::moments;
using rnnkit::sigmoid;
using rnnkit::tanh_;

template <typename T>
void forward_step(T* a, const T* r, const T* c_prev, const T* gamma_h, const T* gamma_c, const T* beta_c, T* c,
                  T* tc, T* h, T* rm, T* rs, T* cm, T* cs, int64_t n, int64_t H) {
#pragma omp parallel for schedule(static) if (n * H >= kParallelMin)
    for (int64_t b = 0; b < n; ++b) {
        T* ab = a + b * 4 * H;
        const T* rb = r + b * 4 * H;
        T mean, inv;
        moments(rb, 4 * H, mean, inv);
        rm[b] = mean;
        rs[b] = inv;
#pragma omp simd
        for (int64_t j = 0; j < 4 * H; ++j) ab[j] += gamma_h[j] * (rb[j] - mean) * inv;
        T* i = ab;
        T* f = ab + H;
        T* g = ab + 2 * H;
        T* o = ab + 3 * H;
        const T* cp = c_prev + b * H;
        T* cb = c + b * H;
#pragma omp simd
        for (int64_t j = 0; j < H; ++j) {
            i[j] = sigmoid(i[j]);
            f[j] = sigmoid(f[j]);
            g[j] = tanh_(g[j]);
            o[j] = sigmoid(o[j]);
            cb[j] = f[j] * cp[j] + i[j] * g[j];
        }
        moments(cb, H, mean, inv);
        cm[b] = mean;
        cs[b] = inv;
        T* tb = tc + b * H;
        T* hb = h + b * H;
#pragma omp simd
        for (int64_t j = 0; j < H; ++j) {
            tb[j] = tanh_(gamma_c[j] * (cb[j] - mean) * inv + beta_c[j]);
            hb[j] = o[j] * tb[j];
        }
    }
}

template <typename T>
void backward_step(const T* act, const T* r, const T* c_prev, const T* c, const T* tc, const T* rm, const T* rs,
                   const T* cm, const T* cs, const T* gamma_h, const T* gamma_c, const T* d_h, T* d_c, T* dA, T* dZ,
                   T* d_ah, int64_t n, int64_t H) {
#pragma omp parallel for schedule(static) if (n * H >= kParallelMin)
    for (int64_t b = 0; b < n; ++b) {
        const T* i = act + b * 4 * H;
        const T* f = i + H;
        const T* g = i + 2 * H;
        const T* o = i + 3 * H;
        const T* cb = c + b * H;
        const T* cp = c_prev + b * H;
        const T* tb = tc + b * H;
        const T* dh = d_h + b * H;
        T* dc = d_c + b * H;
        T* dz = dZ + b * H;
        T* da = dA + b * 4 * H;
        // the cell state's normalisation: d_c += N-backward(d_z γ_c, ĉ)
        double s1 = 0, s2 = 0;
        const T mc = cm[b], ic = cs[b];
#pragma omp simd reduction(+ : s1, s2)
        for (int64_t j = 0; j < H; ++j) {
            const T z = dh[j] * o[j] * (T(1) - tb[j] * tb[j]);
            dz[j] = z;
            const T dch = z * gamma_c[j];
            s1 += dch;
            s2 += dch * (cb[j] - mc) * ic;
        }
        const T m1 = T(s1 / double(H)), m2 = T(s2 / double(H));
#pragma omp simd
        for (int64_t j = 0; j < H; ++j) {
            const T c_hat = (cb[j] - mc) * ic;
            const T d = dc[j] + ic * (dz[j] * gamma_c[j] - m1 - c_hat * m2);
            da[j] = d * g[j] * i[j] * (T(1) - i[j]);
            da[H + j] = d * cp[j] * f[j] * (T(1) - f[j]);
            da[2 * H + j] = d * i[j] * (T(1) - g[j] * g[j]);
            da[3 * H + j] = dh[j] * tb[j] * o[j] * (T(1) - o[j]);
            dc[j] = d * f[j];  // dL/dc_{t-1}
        }
        // the recurrent projection's normalisation: d_r = N-backward(d_a γ_h, r̂)
        rnnkit::norm_backward(da, gamma_h, r + b * 4 * H, rm[b], rs[b], d_ah + b * 4 * H, 4 * H);
    }
}

}  // namespace

#define RNNKIT_LNLSTM(T, suffix)                                                                               \
    void rnnkit_lnlstm_forward_##suffix(T* a, const T* r, const T* c_prev, const T* gamma_h, const T* gamma_c, \
                                        const T* beta_c, T* c, T* tc, T* h, T* rm, T* rs, T* cm, T* cs,        \
                                        int64_t n, int64_t H) {                                                \
        forward_step<T>(a, r, c_prev, gamma_h, gamma_c, beta_c, c, tc, h, rm, rs, cm, cs, n, H);               \
    }                                                                                                          \
    void rnnkit_lnlstm_backward_##suffix(const T* act, const T* r, const T* c_prev, const T* c, const T* tc,   \
                                         const T* rm, const T* rs, const T* cm, const T* cs, const T* gamma_h, \
                                         const T* gamma_c, const T* d_h, T* d_c, T* dA, T* dZ, T* d_ah,        \
                                         int64_t n, int64_t H) {                                               \
        backward_step<T>(act, r, c_prev, c, tc, rm, rs, cm, cs, gamma_h, gamma_c, d_h, d_c, dA, dZ, d_ah, n,   \
                         H);                                                                                   \
    }

extern "C" {
RNNKIT_LNLSTM(float, f32)
RNNKIT_LNLSTM(double, f64)
}  // extern "C"
