// Helpers shared by the recurrent layers.
#pragma once

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
            g[i] += u0[i] * h0;
            a1[i] += u1[i] * h1;
        }
    }
    if (k < H) {
        const float* u0 = U + (size_t)k * M;
        for (int i = 0; i < M; ++i) g[i] += u0[i] * h[k];
    }
    for (int i = 0; i < M; ++i) g[i] += a1[i];
}

// Hidden sizes specialised at compile time; anything else runs the generic path.
#define NS_RNN_FIXED_SIZES(X) X(4) X(8) X(12) X(16) X(20) X(24) X(32) X(40) X(48) X(64) X(96) X(128)

}  // namespace rnn
}  // namespace nscore
