// Helpers shared by the recurrent layers.
#pragma once

#include <utility>

#include "../kernels.h"

namespace nscore {
namespace rnn {

// g[0..M) += U h, U column-major M x H. Two accumulator sets (even / odd k)
// halve the dependency chain of the recurrence, which is latency bound.
template <int MF>
NS_INLINE void matvecAcc(const float* NS_RESTRICT U, const float* NS_RESTRICT h, float* NS_RESTRICT g, int Mdyn, int H,
                         float* NS_RESTRICT scratch) {
    const int M = MF > 0 ? MF : Mdyn;
    float local[MF > 0 ? MF : 1];
    float* a1 = MF > 0 ? local : scratch;
    for (int i = 0; i < M; ++i) a1[i] = 0.0f;
    int k = 0;
    for (; k + 2 <= H; k += 2) {
        const float h0 = h[k], h1 = h[k + 1];
        const float* u0 = U + (size_t)k * M;
        const float* u1 = u0 + M;
        for (int i = 0; i < M; ++i) {
            g[i] = kern::sfma(u0[i], h0, g[i]);
            a1[i] = kern::sfma(u1[i], h1, a1[i]);
        }
    }
    if (k < H) {
        const float* u0 = U + (size_t)k * M;
        for (int i = 0; i < M; ++i) g[i] = kern::sfma(u0[i], h[k], g[i]);
    }
    for (int i = 0; i < M; ++i) g[i] += a1[i];
}

// Hidden state held in one vector register (H == VW): acc[k mod 4][gate] +=
// U(gate rows, k) * h[k] for every k, with h[k] broadcast from the register
// (a lane shuffle) rather than reloaded from memory after a store.
template <int VW, size_t K, size_t... I>
NS_INLINE typename kern::Vec<VW>::type splatLane(typename kern::Vec<VW>::type x, std::index_sequence<I...>) {
    return __builtin_shufflevector(x, x, ((void)I, (int)K)...);
}
template <int VW, int G, size_t K>
NS_INLINE void matvecRegStep(typename kern::Vec<VW>::type (&acc)[4][G], const float* NS_RESTRICT U,
                             typename kern::Vec<VW>::type hv) {
    using V = kern::Vec<VW>;
    const typename V::type hk = splatLane<VW, K>(hv, std::make_index_sequence<VW>{});
#pragma GCC unroll 4
    for (int gate = 0; gate < G; ++gate)
        acc[K & 3][gate] = kern::vfma<VW>(V::load(U + K * G * VW + gate * VW), hk, acc[K & 3][gate]);
}
template <int VW, int G, size_t... K>
NS_INLINE void matvecReg(typename kern::Vec<VW>::type (&acc)[4][G], const float* NS_RESTRICT U,
                         typename kern::Vec<VW>::type hv, std::index_sequence<K...>) {
    (matvecRegStep<VW, G, K>(acc, U, hv), ...);
}

// Vector width of a step with hidden size HF fixed at compile time: the target's widest
// vector when it divides HF, else 8 (or 4 without AVX).
template <int HF>
constexpr int stepWidth() {
    return (HF > 0 && HF % 16 == 0 && kern::kMaxVW >= 16) ? 16 : (kern::kMaxVW >= 8 ? 8 : 4);
}

// Rows [row, row + VW) of a step's input projection: with one input channel (In1) formed
// here as W x_t + b, else read from the block's precomputed projection `pre`.
template <int VW, bool In1>
NS_INLINE typename kern::Vec<VW>::type inputRows(const float* NS_RESTRICT W, const float* NS_RESTRICT b,
                                                 const float* NS_RESTRICT pre, float x, int row) {
    using V = kern::Vec<VW>;
    if constexpr (In1) return kern::vfma<VW>(V::load(W + row), x, V::load(b + row));
    else return V::load(pre + row);
}

// Hidden sizes specialised at compile time; anything else runs the generic path.
#define NS_RNN_FIXED_SIZES(X) X(8) X(16) X(24) X(32) X(40) X(48) X(64) X(96) X(128)

}  // namespace rnn
}  // namespace nscore
