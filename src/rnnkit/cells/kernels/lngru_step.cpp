// One layer-norm GRU time step, forward and hand-derived backward, each ONE pass over each row:
// the same equations as rnnkit/cells/gru_ln.py (docs/EQUATIONS.md 3.9), after torch's GEMM of the
// recurrent projection. Built and loaded like lstm_step.cpp; the normalisation's helpers are
// lnlstm_step.cpp's (layer_norm.h).
//
// Layout (row-major, contiguous; n rows still running, H units; N(v) = (v - mean) / σ over a row):
//   a      (n, 3H)  forward: v = γ_x N(W_ih x) + b_ih on entry, activations [r|z|n] on exit
//   q      (n, 3H)  W_hh h_{t-1} (torch's GEMM);  u (n, 3H) = γ_h N(q) + b_hh, written here
//   qm, qs (n)      mean and 1/σ of q;   h_prev, h (n, H)
//
// Forward:  r = sigmoid(v_r + u_r), z = sigmoid(v_z + u_z), n = tanh(v_n + r u_n), h = n + z (h_{t-1} - n)
// Backward (d_h = dL/dh_t):
//   d_n = d_h (1 - z)(1 - n^2);  d_z = d_h (h_{t-1} - n) z (1 - z);  d_r = d_n u_n r (1 - r)
//   dV = [d_r, d_z, d_n],  dU = [d_r, d_z, d_n r]            (the sums after the loop)
//   d_q = (d_û - mean(d_û) - q̂ mean(d_û q̂)) / σ_q,  d_û = dU γ_h        -> d_ah
//   dL/dh_{t-1} += d_h z                                      (then torch: += d_q W_hh)

#include "layer_norm.h"

namespace {

using rnnkit::kParallelMin;
using rnnkit::moments;
using rnnkit::sigmoid;
using rnnkit::tanh_;

template <typename T>
void forward_step(T* a, const T* q, const T* h_prev, const T* gamma_h, const T* b_hh, T* u, T* h, T* qm, T* qs,
                  int64_t n, int64_t H) {
#pragma omp parallel for schedule(static) if (n * H >= kParallelMin)
    for (int64_t b = 0; b < n; ++b) {
        const T* qb = q + b * 3 * H;
        T* ub = u + b * 3 * H;
        T mean, inv;
        moments(qb, 3 * H, mean, inv);
        qm[b] = mean;
        qs[b] = inv;
#pragma omp simd
        for (int64_t j = 0; j < 3 * H; ++j) ub[j] = gamma_h[j] * (qb[j] - mean) * inv + (b_hh ? b_hh[j] : T(0));
        T* r = a + b * 3 * H;
        T* z = r + H;
        T* n_ = z + H;
        const T* hp = h_prev + b * H;
        T* hb = h + b * H;
#pragma omp simd
        for (int64_t j = 0; j < H; ++j) {
            const T r_ = sigmoid(r[j] + ub[j]), z_ = sigmoid(z[j] + ub[H + j]);
            const T n_j = tanh_(n_[j] + r_ * ub[2 * H + j]);
            r[j] = r_;
            z[j] = z_;
            n_[j] = n_j;
            hb[j] = n_j + z_ * (hp[j] - n_j);
        }
    }
}

template <typename T>
void backward_step(const T* act, const T* q, const T* u, const T* qm, const T* qs, const T* h_prev, const T* gamma_h,
                   const T* d_h, T* dV, T* dU, T* d_ah, T* d_h_prev, int64_t n, int64_t H) {
#pragma omp parallel for schedule(static) if (n * H >= kParallelMin)
    for (int64_t b = 0; b < n; ++b) {
        const T* r = act + b * 3 * H;
        const T* z = r + H;
        const T* n_ = z + H;
        const T* un = u + b * 3 * H + 2 * H;
        const T* hp = h_prev + b * H;
        const T* dh = d_h + b * H;
        T* dv = dV + b * 3 * H;
        T* du = dU + b * 3 * H;
        T* dhp = d_h_prev + b * H;
#pragma omp simd
        for (int64_t j = 0; j < H; ++j) {
            const T r_ = r[j], z_ = z[j], n_j = n_[j], d = dh[j];
            const T d_n = d * (T(1) - z_) * (T(1) - n_j * n_j);
            const T d_z = d * (hp[j] - n_j) * z_ * (T(1) - z_);
            const T d_r = d_n * un[j] * r_ * (T(1) - r_);
            dv[j] = du[j] = d_r;
            dv[H + j] = du[H + j] = d_z;
            dv[2 * H + j] = d_n;
            du[2 * H + j] = d_n * r_;
            dhp[j] += d * z_;  // the direct path h_t = ... + z h_{t-1}
        }
        rnnkit::norm_backward(du, gamma_h, q + b * 3 * H, qm[b], qs[b], d_ah + b * 3 * H, 3 * H);
    }
}

}  // namespace

#define RNNKIT_LNGRU(T, suffix)                                                                                \
    void rnnkit_lngru_forward_##suffix(T* a, const T* q, const T* h_prev, const T* gamma_h, const T* b_hh,     \
                                       T* u, T* h, T* qm, T* qs, int64_t n, int64_t H) {                       \
        forward_step<T>(a, q, h_prev, gamma_h, b_hh, u, h, qm, qs, n, H);                                      \
    }                                                                                                          \
    void rnnkit_lngru_backward_##suffix(const T* act, const T* q, const T* u, const T* qm, const T* qs,        \
                                        const T* h_prev, const T* gamma_h, const T* d_h, T* dV, T* dU,         \
                                        T* d_ah, T* d_h_prev, int64_t n, int64_t H) {                          \
        backward_step<T>(act, q, u, qm, qs, h_prev, gamma_h, d_h, dV, dU, d_ah, d_h_prev, n, H);               \
    }

extern "C" {
RNNKIT_LNGRU(float, f32)
RNNKIT_LNGRU(double, f64)
}  // extern "C"
