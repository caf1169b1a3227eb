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

// One step of one unit, for each cell: ``g`` points at the unit's first gate (the others follow at
// stride TN), ``hp`` is h_{t-1}. ``step`` returns h_t; ``grad`` writes the gates' gradients (same
// layout, at ``dg``) from d = dL/dh_t and returns dL/dh_{t-1} through this step.
template <typename T>
struct MinGRU {
    static constexpr int G = 2;  // (k, h~)
    static inline T step(const T* g, int64_t TN, T hp) {
        const T z = sigmoid(g[0]);
        return hp + z * (g[TN] - hp);
    }
    static inline T grad(const T* g, T* dg, int64_t TN, T hp, T d) {
        const T z = sigmoid(g[0]);
        dg[0] = d * (g[TN] - hp) * z * (T(1) - z);
        dg[TN] = d * z;
        return d * (T(1) - z);
    }
};

template <typename T>
struct MinLSTM {
    static constexpr int G = 3;  // (k_f, k_i, h~)
    static inline T step(const T* g, int64_t TN, T hp) {
        T f_n, i_n, f_c, i_c;
        min_lstm_gates(g[0], g[TN], f_n, i_n, f_c, i_c);
        return g[2 * TN] + f_n * (hp - g[2 * TN]);
    }
    static inline T grad(const T* g, T* dg, int64_t TN, T hp, T d) {
        T f_n, i_n, f_c, i_c;
        min_lstm_gates(g[0], g[TN], f_n, i_n, f_c, i_c);
        const T d_d = d * (hp - g[2 * TN]) * f_n * i_n;
        dg[0] = d_d * f_c;
        dg[TN] = -d_d * i_c;
        dg[2 * TN] = d * i_n;
        return d * f_n;
    }
};

// The whole sequence, forward: threads over blocks of units, time in order inside each.
template <typename T, typename Cell>
void scan_forward(const T* gates, T* H, const int64_t* limits, int64_t Tn, int64_t N) {
    const int64_t TN = Tn * N;
#pragma omp parallel for schedule(static) if (TN >= kParallelMin)
    for (int64_t e0 = 0; e0 < N; e0 += kBlock) {
        const int64_t e1 = e0 + kBlock < N ? e0 + kBlock : N;
        for (int64_t t = 0; t < Tn; ++t) {
            const int64_t m = running(limits, t, e0, e1), o = t * N;
            const T* hp = H + o;
            T* h = H + o + N;
#pragma omp simd
            for (int64_t e = e0; e < m; ++e) h[e] = Cell::step(gates + o + e, TN, hp[e]);
            for (int64_t e = m; e < e1; ++e) h[e] = hp[e];  // finished: a = 1, b = 0
        }
    }
}

// The whole sequence, backward: δ runs in d_h0 from d_hn (or 0) down to dL/dh_0.
template <typename T, typename Cell>
void scan_backward(const T* gates, const T* H, const T* d_Y, const T* d_hn, T* d_gates, T* d_h0,
                   const int64_t* limits, int64_t Tn, int64_t N) {
    const int64_t TN = Tn * N;
#pragma omp parallel for schedule(static) if (TN >= kParallelMin)
    for (int64_t e0 = 0; e0 < N; e0 += kBlock) {
        const int64_t e1 = e0 + kBlock < N ? e0 + kBlock : N;
        for (int64_t e = e0; e < e1; ++e) d_h0[e] = d_hn == nullptr ? T(0) : d_hn[e];
        for (int64_t t = Tn - 1; t >= 0; --t) {
            const int64_t m = running(limits, t, e0, e1), o = t * N;
#pragma omp simd
            for (int64_t e = e0; e < m; ++e)
                d_h0[e] = Cell::grad(gates + o + e, d_gates + o + e, TN, H[o + e], d_h0[e] + d_Y[o + e]);
            for (int64_t e = m; e < e1; ++e)
                for (int k = 0; k < Cell::G; ++k) d_gates[k * TN + o + e] = T(0);
        }
    }
}

}  // namespace

#define RNNKIT_SCAN(cell, Cell, T, suffix)                                                                    \
    void rnnkit_scan_##cell##_forward_##suffix(const T* gates, T* H, const int64_t* limits, int64_t Tn,        \
                                               int64_t N) {                                                    \
        scan_forward<T, Cell<T>>(gates, H, limits, Tn, N);                                                     \
    }                                                                                                          \
    void rnnkit_scan_##cell##_backward_##suffix(const T* gates, const T* H, const T* d_Y, const T* d_hn,       \
                                                T* d_gates, T* d_h0, const int64_t* limits, int64_t Tn,        \
                                                int64_t N) {                                                   \
        scan_backward<T, Cell<T>>(gates, H, d_Y, d_hn, d_gates, d_h0, limits, Tn, N);                          \
    }

extern "C" {
RNNKIT_SCAN(mingru, MinGRU, float, f32)
RNNKIT_SCAN(mingru, MinGRU, double, f64)
RNNKIT_SCAN(minlstm, MinLSTM, float, f32)
RNNKIT_SCAN(minlstm, MinLSTM, double, f64)
}  // extern "C"
