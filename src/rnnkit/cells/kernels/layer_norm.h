// The row normalisation N(v) = (v - mean) / sqrt(var + eps) shared by the layer-norm kernels
// (lnlstm_step.cpp, lngru_step.cpp): its statistics and its backward. Row sums accumulate in double,
// as torch's own layer norm does for float32 on a CPU: the backward's mean(d_v̂) and mean(d_v̂ v̂)
// are differences of similar numbers.
#pragma once

#include "activations.h"

namespace rnnkit {

constexpr double kNormEps = 1e-5;  // rnnkit.cells.layer_norm.EPS

template <typename T>
inline void moments(const T* v, int64_t n, T& mean, T& inv) {
    double s = 0;
#pragma omp simd reduction(+ : s)
    for (int64_t j = 0; j < n; ++j) s += v[j];
    const double m = s / double(n);
    double q = 0;
#pragma omp simd reduction(+ : q)
    for (int64_t j = 0; j < n; ++j) q += (v[j] - m) * (v[j] - m);
    mean = T(m);
    inv = T(1.0 / std::sqrt(q / double(n) + kNormEps));
}

// d_v = (d_v̂ - mean(d_v̂) - v̂ mean(d_v̂ v̂)) / σ with d_v̂ = d_y γ, v̂ = (v - mean) inv, over n features.
template <typename T>
inline void norm_backward(const T* d_y, const T* gamma, const T* v, T mean, T inv, T* d_v, int64_t n) {
    double s1 = 0, s2 = 0;
#pragma omp simd reduction(+ : s1, s2)
    for (int64_t j = 0; j < n; ++j) {
        const T g = d_y[j] * gamma[j];
        s1 += g;
        s2 += g * (v[j] - mean) * inv;
    }
    const T m1 = T(s1 / double(n)), m2 = T(s2 / double(n));
#pragma omp simd
    for (int64_t j = 0; j < n; ++j) d_v[j] = inv * (d_y[j] * gamma[j] - m1 - (v[j] - mean) * inv * m2);
}

}  // namespace rnnkit
