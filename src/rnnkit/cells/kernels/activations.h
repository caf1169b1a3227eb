// Activations shared by the step kernels (lstm_step.cpp, gru_step.cpp), and their threading rule.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>

namespace rnnkit {

// exp(x) in float32 without a library call, so the loops vectorise: x = k ln2 + r with
// |r| <= ln2/2 (k rounded by adding and removing 1.5 * 2^23; Cody-Waite split of ln2), exp(r) by
// its Taylor series to r^7 (truncation error < 6e-9 relative, under half an ulp), times 2^k built
// in the exponent bits. Arguments are clamped to [-87, 88] (2^k stays a normal float); NaN passes
// through.
inline float exp_f(float x) {
    float y = x < -87.0f ? -87.0f : x;
    y = y > 88.0f ? 88.0f : y;
    const float k = (y * 1.44269504f + 12582912.0f) - 12582912.0f;  // round to nearest: 1.5 * 2^23 trick
    const float r = (y - k * 0.693359375f) + k * 2.12194440e-4f;
    float p = 1.0f / 5040.0f;
    p = p * r + 1.0f / 720.0f;
    p = p * r + 1.0f / 120.0f;
    p = p * r + 1.0f / 24.0f;
    p = p * r + 1.0f / 6.0f;
    p = p * r + 0.5f;
    p = p * r + 1.0f;
    p = p * r + 1.0f;
    const int32_t bits = (static_cast<int32_t>(k) + 127) << 23;
    float scale;
    std::memcpy(&scale, &bits, sizeof scale);
    const float e = p * scale;
    return x != x ? x : e;
}

inline float sigmoid(float x) { return 1.0f / (1.0f + exp_f(-x)); }
inline float tanh_(float x) { return 1.0f - 2.0f / (1.0f + exp_f(2.0f * x)); }  // exact at +-inf

// float64 is for gradient checks and users who ask for it: accuracy over speed.
inline double sigmoid(double x) { return 1.0 / (1.0 + std::exp(-x)); }
inline double tanh_(double x) { return std::tanh(x); }

// Rows go to threads of the OpenMP pool torch itself uses (the same libgomp is loaded once),
// so the thread count follows torch.set_num_threads. Small steps stay on one thread.
constexpr int64_t kParallelMin = 16384;

}  // namespace rnnkit
