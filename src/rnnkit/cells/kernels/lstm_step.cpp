// One LSTM time step, forward and hand-derived backward, as single fused passes over memory.
//
// The same equations as rnnkit/cells/lstm.py (derivations in docs/EQUATIONS.md); this file only
// makes each step ONE pass over the (B, 4H) gate buffer instead of ~7 (forward) and ~5
// (backward) separate eager kernels. Built and loaded by rnnkit/cells/compiled.py (g++ -O3
// -march=native -fopenmp; plain C ABI, called through ctypes), so it needs no torch headers.
// The float32 sigmoid/tanh are in activations.h.
//
// Layout (row-major, contiguous; n rows = the batch rows still running at this step, H units):
//   a       (n, 4H)  forward: pre-activations [a_i | a_f | a_g | a_o] on entry,
//                    activations [i | f | g | o] on exit (the backward reads them back)
//   c_prev  (n, H)   c_{t-1}
//   c, tc   (n, H)   c_t and tanh(c_t)
//   h       (n, H)   h_t
//
// Forward:   i = sigmoid(a_i)   f = sigmoid(a_f)   g = tanh(a_g)   o = sigmoid(a_o)
//            c_t = f c_{t-1} + i g        h_t = o tanh(c_t)
// Backward (d_h = dL/dh_t in total, d_c = dL/dc_t from step t+1, updated in place):
//            d_c  += d_h o (1 - tanh(c_t)^2)
//            d_i   = d_c g i (1 - i)      d_f = d_c c_{t-1} f (1 - f)
//            d_g   = d_c i (1 - g^2)      d_o = d_h tanh(c_t) o (1 - o)
//            dL/dc_{t-1} = d_c f          (dL/dh_{t-1} = d_a W_hh is a GEMM, done by torch)

#include "activations.h"

namespace {

using rnnkit::kParallelMin;
using rnnkit::sigmoid;
using rnnkit::tanh_;

template <typename T>
void forward_step(T* a, const T* c_prev, T* c, T* tc, T* h, int64_t n, int64_t H) {
#pragma omp parallel for schedule(static) if (n * H >= kParallelMin)
    for (int64_t b = 0; b < n; ++b) {
        T* i = a + b * 4 * H;  // row b's gate blocks [i | f | g | o]
        T* f = i + H;
        T* g = f + H;
        T* o = g + H;
        const T* cp = c_prev + b * H;
        T* cb = c + b * H;
        T* tcb = tc + b * H;
        T* hb = h + b * H;
#pragma omp simd
        for (int64_t j = 0; j < H; ++j) {
            const T i_ = sigmoid(i[j]), f_ = sigmoid(f[j]), g_ = tanh_(g[j]), o_ = sigmoid(o[j]);
            const T c_ = f_ * cp[j] + i_ * g_;  // c_t = f c_{t-1} + i g
            const T tc_ = tanh_(c_);
            i[j] = i_;
            f[j] = f_;
            g[j] = g_;
            o[j] = o_;
            cb[j] = c_;
            tcb[j] = tc_;
            hb[j] = o_ * tc_;  // h_t = o tanh(c_t)
        }
    }
}

template <typename T>
void backward_step(const T* a, const T* tc, const T* c_prev, const T* d_h, T* d_c, T* d_a, int64_t n, int64_t H) {
#pragma omp parallel for schedule(static) if (n * H >= kParallelMin)
    for (int64_t b = 0; b < n; ++b) {
        const T* i = a + b * 4 * H;  // activations [i | f | g | o]
        const T* f = i + H;
        const T* g = f + H;
        const T* o = g + H;
        T* d_i = d_a + b * 4 * H;  // gradients w.r.t. the pre-activations, same layout
        T* d_f = d_i + H;
        T* d_g = d_f + H;
        T* d_o = d_g + H;
        const T* tcb = tc + b * H;
        const T* cp = c_prev + b * H;
        const T* dh = d_h + b * H;
        T* dc = d_c + b * H;
#pragma omp simd
        for (int64_t j = 0; j < H; ++j) {
            const T tc_ = tcb[j], o_ = o[j], i_ = i[j], f_ = f[j], g_ = g[j];
            const T d_c_ = dc[j] + dh[j] * o_ * (T(1) - tc_ * tc_);  // the cell state also reaches h_t
            d_o[j] = dh[j] * tc_ * o_ * (T(1) - o_);
            d_i[j] = d_c_ * g_ * i_ * (T(1) - i_);
            d_f[j] = d_c_ * cp[j] * f_ * (T(1) - f_);
            d_g[j] = d_c_ * i_ * (T(1) - g_ * g_);
            dc[j] = d_c_ * f_;  // dL/dc_{t-1}
        }
    }
}

// A whole step for a few rows (generation, B <= 8), GEMVs included: per unit j, the four gate rows
// j, H+j, 2H+j, 3H+j of W_ih and W_hh are dotted with x_t and h_{t-1}, and the unit's c_t, h_t are
// formed at once. At batch 1 a step is bound by reading the weights once (4H (D+H) floats), so
// this one pass, split over threads by units, is all there is; BLAS GEMV calls plus a separate
// pointwise pass add a round trip per gate block and Python dispatch in between.
//   x (B, D), w_ih (4H, D), w_hh (4H, H), bias (4H) = b_ih + b_hh or null,
//   h_prev, c_prev (B, H) in; h, c (B, H) out (must not alias h_prev: every thread reads all of it).
template <typename T>
void step(const T* x, const T* w_ih, const T* w_hh, const T* bias, const T* h_prev, const T* c_prev, T* h, T* c,
          int64_t B, int64_t D, int64_t H) {
#pragma omp parallel for schedule(static) if (4 * H * (D + H) >= 4 * kParallelMin)
    for (int64_t j = 0; j < H; ++j) {
        const T* wx[4] = {w_ih + j * D, w_ih + (H + j) * D, w_ih + (2 * H + j) * D, w_ih + (3 * H + j) * D};
        const T* wh[4] = {w_hh + j * H, w_hh + (H + j) * H, w_hh + (2 * H + j) * H, w_hh + (3 * H + j) * H};
        for (int64_t b = 0; b < B; ++b) {
            const T* xb = x + b * D;
            const T* hb = h_prev + b * H;
            T a_i = 0, a_f = 0, a_g = 0, a_o = 0;
#pragma omp simd reduction(+ : a_i, a_f, a_g, a_o)
            for (int64_t k = 0; k < D; ++k) {
                a_i += wx[0][k] * xb[k];
                a_f += wx[1][k] * xb[k];
                a_g += wx[2][k] * xb[k];
                a_o += wx[3][k] * xb[k];
            }
#pragma omp simd reduction(+ : a_i, a_f, a_g, a_o)
            for (int64_t k = 0; k < H; ++k) {
                a_i += wh[0][k] * hb[k];
                a_f += wh[1][k] * hb[k];
                a_g += wh[2][k] * hb[k];
                a_o += wh[3][k] * hb[k];
            }
            if (bias) {
                a_i += bias[j];
                a_f += bias[H + j];
                a_g += bias[2 * H + j];
                a_o += bias[3 * H + j];
            }
            const T i_ = sigmoid(a_i), f_ = sigmoid(a_f), g_ = tanh_(a_g), o_ = sigmoid(a_o);
            const T c_ = f_ * c_prev[b * H + j] + i_ * g_;  // c_t = f c_{t-1} + i g
            c[b * H + j] = c_;
            h[b * H + j] = o_ * tanh_(c_);  // h_t = o tanh(c_t)
        }
    }
}

}  // namespace

extern "C" {

void rnnkit_lstm_step_f32(const float* x, const float* w_ih, const float* w_hh, const float* bias,
                          const float* h_prev, const float* c_prev, float* h, float* c, int64_t B, int64_t D,
                          int64_t H) {
    step<float>(x, w_ih, w_hh, bias, h_prev, c_prev, h, c, B, D, H);
}

void rnnkit_lstm_step_f64(const double* x, const double* w_ih, const double* w_hh, const double* bias,
                          const double* h_prev, const double* c_prev, double* h, double* c, int64_t B, int64_t D,
                          int64_t H) {
    step<double>(x, w_ih, w_hh, bias, h_prev, c_prev, h, c, B, D, H);
}

void rnnkit_lstm_forward_f32(float* a, const float* c_prev, float* c, float* tc, float* h, int64_t n, int64_t H) {
    forward_step<float>(a, c_prev, c, tc, h, n, H);
}

void rnnkit_lstm_forward_f64(double* a, const double* c_prev, double* c, double* tc, double* h, int64_t n,
                             int64_t H) {
    forward_step<double>(a, c_prev, c, tc, h, n, H);
}

void rnnkit_lstm_backward_f32(const float* a, const float* tc, const float* c_prev, const float* d_h, float* d_c,
                              float* d_a, int64_t n, int64_t H) {
    backward_step<float>(a, tc, c_prev, d_h, d_c, d_a, n, H);
}

void rnnkit_lstm_backward_f64(const double* a, const double* tc, const double* c_prev, const double* d_h,
                              double* d_c, double* d_a, int64_t n, int64_t H) {
    backward_step<double>(a, tc, c_prev, d_h, d_c, d_a, n, H);
}

}  // extern "C"
