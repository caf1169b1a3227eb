// The scan cells' whole sequence, forward and hand-derived backward, each ONE pass over memory:
// minGRU and minLSTM (rnnkit/cells/mingru.py, minlstm.py; docs/EQUATIONS.md 3.10, 3.11). Built and
// loaded like lstm_step.cpp.
//
// Their recurrence h_t = a_t h_{t-1} + b_t is element-wise: each of the N = B*H units runs its own
// scan, independent of the others. On a CPU that is the parallelism there is (threads over blocks of
// units, SIMD within a block, time in order inside each), so one pass over the gates does the
// coefficients and the scan together, where the eager chunked scan (rnnkit/layers/scan.py) makes
// some twenty passes. The equations are the cells' own.
//
// Layout (row-major, contiguous): gates (G, T, N) the input projections' gate blocks; H (T+1, N)
// h_0..h_T (h_0 written by the caller); d_Y (T, N) dL/dY; d_hn (N) dL/dh_n or null; d_gates (G, T, N);
// d_h0 (N). limits (T) or null: at step t units [0, limits[t]) are running (rows sorted by length);
// the others keep their state (a = 1, b = 0) and get zero gradients.
//
// minGRU    z = sigmoid(k)                  h_t = h_{t-1} + z (h~ - h_{t-1})
//           d_h~ = δ z    d_k = δ (h~ - h_{t-1}) z (1 - z)    δ_{t-1} = δ (1 - z)
// minLSTM   f = sigmoid(k_f), i = sigmoid(k_i), f' = f / (f + i) (sigmoid(k_f - k_i) once both
//           underflow: the limit, exact there), i' = 1 - f'      h_t = h~ + f' (h_{t-1} - h~)
//           d_h~ = δ i'   d_d = δ (h_{t-1} - h~) f' i'   d_kf = d_d (1 - f)   d_ki = -d_d (1 - i)
//           δ_{t-1} = δ f'
// with δ = dL/dh_t in total: d_Y[t] + δ_t carried from step t+1 (d_hn at t = T).

#include "activations.h"

namespace {

using rnnkit::kParallelMin;
using rnnkit::sigmoid;

constexpr int64_t kBlock = 256;  // units per task: a few KiB per array, SIMD-wide loops

inline int64_t running(const int64_t* limits, int64_t t, int64_t e0, int64_t e1) {
    if (limits == nullptr) return e1;
    const int64_t n = limits[t];
    return n < e0 ? e0 : (n > e1 ? e1 : n);
}

// exp saturating before it overflows (float32: exp_f's own clamp at e^88, activations.h; float64 at
// e^700), so 2 + u + v below stays finite: the values it changes are below 1e-38 (1e-304) anyway.
inline float exp_(float x) { return rnnkit::exp_f(x); }
inline double exp_(double x) { return std::exp(x < 700.0 ? x : 700.0); }

// The minLSTM's gates, shared by both passes, from u = e^-k_f and v = e^-k_i:
//   f' = f / (f + i) = (1 + v) / (2 + u + v),  i' = (1 + u) / (2 + u + v)   (one division)
//   1 - f = u / (1 + u),  1 - i = v / (1 + v)   (what 1 - f would round away where f > 1/2)
// Where both logits are below about -69 (u, v > 1e30; in float32 exp_f saturates at e^88),
// f' = sigmoid(k_f - k_i): the limit, exact to the precision there.
template <typename T>
inline void min_lstm_gates(T k_f, T k_i, T& f_n, T& i_n, T& f_c, T& i_c) {
    const T u = exp_(-k_f), v = exp_(-k_i);
    const T r = T(1) / (T(2) + u + v);
    f_n = (T(1) + v) * r;
    i_n = (T(1) + u) * r;
    if ((u < v ? u : v) > T(1e30)) {
        f_n = sigmoid(k_f - k_i);
        i_n = T(1) - f_n;
    }
    f_c = u / (T(1) + u);
    i_c = v / (T(1) + v);
}

template <typename T>
void mingru_forward(const T* gates, T* H, const int64_t* limits, int64_t Tn, int64_t N) {
    const T* K = gates;
    const T* Ht = gates + Tn * N;
#pragma omp parallel for schedule(static) if (Tn * N >= kParallelMin)
    for (int64_t e0 = 0; e0 < N; e0 += kBlock) {
        const int64_t e1 = e0 + kBlock < N ? e0 + kBlock : N;
        for (int64_t t = 0; t < Tn; ++t) {
            const int64_t m = running(limits, t, e0, e1);
            const T* k = K + t * N;
            const T* ht = Ht + t * N;
            const T* hp = H + t * N;
            T* h = H + (t + 1) * N;
#pragma omp simd
            for (int64_t e = e0; e < m; ++e) {
                const T z = sigmoid(k[e]);
                h[e] = hp[e] + z * (ht[e] - hp[e]);
            }
            for (int64_t e = m; e < e1; ++e) h[e] = hp[e];
        }
    }
}

template <typename T>
void mingru_backward(const T* gates, const T* H, const T* d_Y, const T* d_hn, T* d_gates, T* d_h0,
                     const int64_t* limits, int64_t Tn, int64_t N) {
    const T* K = gates;
    const T* Ht = gates + Tn * N;
    T* dK = d_gates;
    T* dHt = d_gates + Tn * N;
#pragma omp parallel for schedule(static) if (Tn * N >= kParallelMin)
    for (int64_t e0 = 0; e0 < N; e0 += kBlock) {
        const int64_t e1 = e0 + kBlock < N ? e0 + kBlock : N;
        for (int64_t e = e0; e < e1; ++e) d_h0[e] = d_hn == nullptr ? T(0) : d_hn[e];  // δ runs in d_h0
        for (int64_t t = Tn - 1; t >= 0; --t) {
            const int64_t m = running(limits, t, e0, e1);
            const int64_t o = t * N;
#pragma omp simd
            for (int64_t e = e0; e < m; ++e) {
                const T z = sigmoid(K[o + e]);
                const T d = d_h0[e] + d_Y[o + e];
                dHt[o + e] = d * z;
                dK[o + e] = d * (Ht[o + e] - H[o + e]) * z * (T(1) - z);
                d_h0[e] = d * (T(1) - z);
            }
            for (int64_t e = m; e < e1; ++e) dK[o + e] = dHt[o + e] = T(0);
        }
    }
}

template <typename T>
void minlstm_forward(const T* gates, T* H, const int64_t* limits, int64_t Tn, int64_t N) {
    const T* Kf = gates;
    const T* Ki = gates + Tn * N;
    const T* Ht = gates + 2 * Tn * N;
#pragma omp parallel for schedule(static) if (Tn * N >= kParallelMin)
    for (int64_t e0 = 0; e0 < N; e0 += kBlock) {
        const int64_t e1 = e0 + kBlock < N ? e0 + kBlock : N;
        for (int64_t t = 0; t < Tn; ++t) {
            const int64_t m = running(limits, t, e0, e1);
            const int64_t o = t * N;
            const T* hp = H + o;
            T* h = H + o + N;
#pragma omp simd
            for (int64_t e = e0; e < m; ++e) {
                const T u = exp_(-Kf[o + e]), v = exp_(-Ki[o + e]);
                T f_n = (T(1) + v) / (T(2) + u + v);
                if ((u < v ? u : v) > T(1e30)) f_n = sigmoid(Kf[o + e] - Ki[o + e]);
                h[e] = Ht[o + e] + f_n * (hp[e] - Ht[o + e]);
            }
            for (int64_t e = m; e < e1; ++e) h[e] = hp[e];
        }
    }
}

template <typename T>
void minlstm_backward(const T* gates, const T* H, const T* d_Y, const T* d_hn, T* d_gates, T* d_h0,
                      const int64_t* limits, int64_t Tn, int64_t N) {
    const T* Kf = gates;
    const T* Ki = gates + Tn * N;
    const T* Ht = gates + 2 * Tn * N;
    T* dKf = d_gates;
    T* dKi = d_gates + Tn * N;
    T* dHt = d_gates + 2 * Tn * N;
#pragma omp parallel for schedule(static) if (Tn * N >= kParallelMin)
    for (int64_t e0 = 0; e0 < N; e0 += kBlock) {
        const int64_t e1 = e0 + kBlock < N ? e0 + kBlock : N;
        for (int64_t e = e0; e < e1; ++e) d_h0[e] = d_hn == nullptr ? T(0) : d_hn[e];  // δ runs in d_h0
        for (int64_t t = Tn - 1; t >= 0; --t) {
            const int64_t m = running(limits, t, e0, e1);
            const int64_t o = t * N;
#pragma omp simd
            for (int64_t e = e0; e < m; ++e) {
                T f_n, i_n, f_c, i_c;
                min_lstm_gates(Kf[o + e], Ki[o + e], f_n, i_n, f_c, i_c);
                const T d = d_h0[e] + d_Y[o + e];
                const T d_d = d * (H[o + e] - Ht[o + e]) * f_n * i_n;
                dHt[o + e] = d * i_n;
                dKf[o + e] = d_d * f_c;
                dKi[o + e] = -d_d * i_c;
                d_h0[e] = d * f_n;
            }
            for (int64_t e = m; e < e1; ++e) dKf[o + e] = dKi[o + e] = dHt[o + e] = T(0);
        }
    }
}

}  // namespace

#define RNNKIT_SCAN(cell, T, suffix)                                                                          \
    void rnnkit_scan_##cell##_forward_##suffix(const T* gates, T* H, const int64_t* limits, int64_t Tn,        \
                                               int64_t N) {                                                    \
        cell##_forward<T>(gates, H, limits, Tn, N);                                                            \
    }                                                                                                          \
    void rnnkit_scan_##cell##_backward_##suffix(const T* gates, const T* H, const T* d_Y, const T* d_hn,       \
                                                T* d_gates, T* d_h0, const int64_t* limits, int64_t Tn,        \
                                                int64_t N) {                                                   \
        cell##_backward<T>(gates, H, d_Y, d_hn, d_gates, d_h0, limits, Tn, N);                                 \
    }

extern "C" {
RNNKIT_SCAN(mingru, float, f32)
RNNKIT_SCAN(mingru, double, f64)
RNNKIT_SCAN(minlstm, float, f32)
RNNKIT_SCAN(minlstm, double, f64)
}  // extern "C"
