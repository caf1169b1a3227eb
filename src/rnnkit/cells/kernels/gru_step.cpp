// One GRU time step (reset_after=True, the cuDNN / torch.nn form), forward and hand-derived
// backward, each as a single pass over memory. The same equations as rnnkit/cells/gru.py
// (derivations in docs/EQUATIONS.md); built and loaded like lstm_step.cpp.
//
// Layout (row-major, contiguous; n rows still running at this step, H units):
//   a       (n, 3H)  forward: input projections [x_r | x_z | x_n] (+ b_ih) on entry,
//                    activations [r | z | n] on exit (the backward reads them back)
//   hw      (n, 3H)  h_{t-1} W_hh^T + b_hh = [h_r | h_z | hn], from torch's GEMM
//   h_prev, h (n, H)
//
// Forward:   r = sigmoid(x_r + h_r)    z = sigmoid(x_z + h_z)    n = tanh(x_n + r hn)
//            h_t = (1 - z) n + z h_{t-1}  = n + z (h_{t-1} - n)
// Backward (d_h = dL/dh_t in total):
//            d_n  = d_h (1 - z) (1 - n^2)            gradient of n's pre-activation: the input
//                                                    projection's n slot gets d_n (d_xn below)
//            d_r  = d_n hn r (1 - r)
//            d_z  = d_h (h_{t-1} - n) z (1 - z)
//            d_hn = d_n r                            the recurrent projection's n slot
//            dL/dh_{t-1} += d_h z                    (+ [d_r, d_z, d_hn] W_hh: a GEMM, by torch)

#include "activations.h"

namespace {

using rnnkit::kParallelMin;
using rnnkit::sigmoid;
using rnnkit::tanh_;

template <typename T>
void forward_step(T* a, const T* hw, const T* h_prev, T* h, int64_t n, int64_t H) {
#pragma omp parallel for schedule(static) if (n * H >= kParallelMin)
    for (int64_t b = 0; b < n; ++b) {
        T* r = a + b * 3 * H;  // row b's blocks [r | z | n]
        T* z = r + H;
        T* n_ = z + H;
        const T* h_r = hw + b * 3 * H;
        const T* h_z = h_r + H;
        const T* hn = h_z + H;
        const T* hp = h_prev + b * H;
        T* hb = h + b * H;
#pragma omp simd
        for (int64_t j = 0; j < H; ++j) {
            const T r_ = sigmoid(r[j] + h_r[j]), z_ = sigmoid(z[j] + h_z[j]);
            const T n_j = tanh_(n_[j] + r_ * hn[j]);
            r[j] = r_;
            z[j] = z_;
            n_[j] = n_j;
            hb[j] = n_j + z_ * (hp[j] - n_j);  // h_t = (1 - z) n + z h_{t-1}
        }
    }
}

template <typename T>
void backward_step(const T* a, const T* hw, const T* h_prev, const T* d_h, T* d_a, T* d_xn, T* d_h_prev, int64_t n,
                   int64_t H) {
#pragma omp parallel for schedule(static) if (n * H >= kParallelMin)
    for (int64_t b = 0; b < n; ++b) {
        const T* r = a + b * 3 * H;  // activations [r | z | n]
        const T* z = r + H;
        const T* n_ = z + H;
        const T* hn = hw + b * 3 * H + 2 * H;
        T* d_r = d_a + b * 3 * H;  // gradients w.r.t. the recurrent projection [h_r | h_z | hn]
        T* d_z = d_r + H;
        T* d_hn = d_z + H;
        const T* hp = h_prev + b * H;
        const T* dh = d_h + b * H;
        T* dxn = d_xn + b * H;
        T* dhp = d_h_prev + b * H;
#pragma omp simd
        for (int64_t j = 0; j < H; ++j) {
            const T r_ = r[j], z_ = z[j], n_j = n_[j], dh_ = dh[j];
            const T dn = dh_ * (T(1) - z_) * (T(1) - n_j * n_j);
            d_r[j] = dn * hn[j] * r_ * (T(1) - r_);
            d_z[j] = dh_ * (hp[j] - n_j) * z_ * (T(1) - z_);
            d_hn[j] = dn * r_;
            dxn[j] = dn;
            dhp[j] += dh_ * z_;  // the direct path h_t = ... + z h_{t-1}
        }
    }
}

}  // namespace

extern "C" {

void rnnkit_gru_forward_f32(float* a, const float* hw, const float* h_prev, float* h, int64_t n, int64_t H) {
    forward_step<float>(a, hw, h_prev, h, n, H);
}

void rnnkit_gru_forward_f64(double* a, const double* hw, const double* h_prev, double* h, int64_t n, int64_t H) {
    forward_step<double>(a, hw, h_prev, h, n, H);
}

void rnnkit_gru_backward_f32(const float* a, const float* hw, const float* h_prev, const float* d_h, float* d_a,
                             float* d_xn, float* d_h_prev, int64_t n, int64_t H) {
    backward_step<float>(a, hw, h_prev, d_h, d_a, d_xn, d_h_prev, n, H);
}

void rnnkit_gru_backward_f64(const double* a, const double* hw, const double* h_prev, const double* d_h,
                             double* d_a, double* d_xn, double* d_h_prev, int64_t n, int64_t H) {
    backward_step<double>(a, hw, h_prev, d_h, d_a, d_xn, d_h_prev, n, H);
}

}  // extern "C"
