// Block matrix kernels used by every layer.
//
// All activations are stored column-major: a block of N time steps of a
// C-channel signal is a C x N matrix whose column t is contiguous (stride ld).
//
// The one primitive is a tapped block product:
//   Y(:, t) = init(:, t) + sum_tap W_tap * X(:, t + xoff[tap])      t = 0..N-1
// where each W_tap is an M x K column-major matrix. Dense layers are 1 tap,
// dilated convolutions are K taps with negative column offsets into a history
// buffer. Rows are processed in chunks of at most 16 whose size is a
// compile-time constant, and time steps in register blocks, so the compiler
// keeps the accumulators in vector registers and vectorises over rows.
// Requires GCC or Clang (vector extensions).
#pragma once

#include <algorithm>
#include <cstring>
#include <type_traits>
#include <vector>

#include "simd.h"

namespace nscore {
namespace kern {

struct TapProduct {
    const float* W = nullptr;  // tap 0, row 0
    int ldw = 0;               // leading dimension of W (total rows M)
    int tapStride = 0;         // floats between consecutive taps' matrices
    int K = 0;                 // inner dimension
    int taps = 1;
    const int* xoff = nullptr;  // column offset of each tap (nullptr = all 0)
    const float* X = nullptr;
    int ldx = 0;
    // Optional second source added in the same pass (no taps): W2 (M x K2, ld ldw2) * X2.
    const float* W2 = nullptr;
    int ldw2 = 0;
    int K2 = 0;
    const float* X2 = nullptr;
    int ldx2 = 0;
};


// Rows [rowOffset, rowOffset + VW * NV) of Y = init + sum_tap W_tap X_tap, with
// T time steps per register block. init: bias (per row, may be null) plus R
// (same shape as Y, may be null); if accumulate is set, Y's contents are added.
template <int VW, int NV>
void rowsKernel(const TapProduct& p, int rowOffset, int N, const float* bias, const float* R, int ldr, float* Y,
                int ldy, bool accumulate) {
    using V = Vec<VW>;
    using v = typename V::type;
    constexpr int T = NV == 1 ? 8 : (NV == 2 ? 6 : 4);
    v b[NV];
    for (int q = 0; q < NV; ++q) b[q] = bias ? V::load(bias + rowOffset + q * VW) : V::splat(0.0f);
    auto block = [&](int t, auto tcount) {
        constexpr int TT = decltype(tcount)::value;
        v acc[TT][NV];
#pragma GCC unroll 8
        for (int j = 0; j < TT; ++j) {
#pragma GCC unroll 4
            for (int q = 0; q < NV; ++q) {
                v a = b[q];
                if (R) a += V::load(R + (ptrdiff_t)(t + j) * ldr + rowOffset + q * VW);
                if (accumulate) a += V::load(Y + (ptrdiff_t)(t + j) * ldy + rowOffset + q * VW);
                acc[j][q] = a;
            }
        }
        for (int tap = 0; tap < p.taps; ++tap) {
            const float* NS_RESTRICT w = p.W + (size_t)tap * p.tapStride + rowOffset;
            const float* NS_RESTRICT x = p.X + (ptrdiff_t)(t + (p.xoff ? p.xoff[tap] : 0)) * p.ldx;
            for (int k = 0; k < p.K; ++k) {
                v wv[NV];
#pragma GCC unroll 4
                for (int q = 0; q < NV; ++q) wv[q] = V::load(w + (size_t)k * p.ldw + q * VW);
#pragma GCC unroll 8
                for (int j = 0; j < TT; ++j) {
                    const float xs = x[(ptrdiff_t)j * p.ldx + k];
#pragma GCC unroll 4
                    for (int q = 0; q < NV; ++q) acc[j][q] = vfma<VW>(wv[q], xs, acc[j][q]);
                }
            }
        }
        if (p.W2) {
            const float* NS_RESTRICT w = p.W2 + rowOffset;
            const float* NS_RESTRICT x = p.X2 + (ptrdiff_t)t * p.ldx2;
            for (int k = 0; k < p.K2; ++k) {
                v wv[NV];
#pragma GCC unroll 4
                for (int q = 0; q < NV; ++q) wv[q] = V::load(w + (size_t)k * p.ldw2 + q * VW);
#pragma GCC unroll 8
                for (int j = 0; j < TT; ++j) {
                    const float xs = x[(ptrdiff_t)j * p.ldx2 + k];
#pragma GCC unroll 4
                    for (int q = 0; q < NV; ++q) acc[j][q] = vfma<VW>(wv[q], xs, acc[j][q]);
                }
            }
        }
#pragma GCC unroll 8
        for (int j = 0; j < TT; ++j)
#pragma GCC unroll 4
            for (int q = 0; q < NV; ++q) V::store(Y + (ptrdiff_t)(t + j) * ldy + rowOffset + q * VW, acc[j][q]);
    };
    int t = 0;
    for (; t + T <= N; t += T) block(t, std::integral_constant<int, T>{});
    for (; t < N; ++t) block(t, std::integral_constant<int, 1>{});
}

// Single output row: a dot product per column. For a contiguous weight row the
// column is consumed 8 floats at a time in a vector accumulator, reduced with
// a shuffle tree at the end.
NS_INLINE float hsum8(Vec<8>::type v) {
    using v4 = Vec<4>::type;
    const v4 a = __builtin_shufflevector(v, v, 0, 1, 2, 3) + __builtin_shufflevector(v, v, 4, 5, 6, 7);
    const v4 b = a + __builtin_shufflevector(a, a, 2, 3, 0, 1);
    return b[0] + b[1];
}

// Eight dot products at once: lane j of the result is the sum of the lanes of
// a[j]. Pairs are folded half against half (a transposing add tree), so each
// column's sum is formed in the same order whichever other columns it shares
// the tree with: results do not depend on how a signal is split into blocks.
NS_INLINE Vec<8>::type hsum8x8(const Vec<8>::type (&a)[8]) {
    using v = Vec<8>::type;
    v r[4], s[2];
#pragma GCC unroll 4
    for (int i = 0; i < 4; ++i)
        r[i] = __builtin_shufflevector(a[2 * i], a[2 * i + 1], 0, 1, 2, 3, 8, 9, 10, 11) +
               __builtin_shufflevector(a[2 * i], a[2 * i + 1], 4, 5, 6, 7, 12, 13, 14, 15);
    // r[i] = [a[2i] folded to 4 | a[2i+1] folded to 4]
#pragma GCC unroll 2
    for (int i = 0; i < 2; ++i)
        s[i] = __builtin_shufflevector(r[2 * i], r[2 * i + 1], 0, 2, 8, 10, 4, 6, 12, 14) +
               __builtin_shufflevector(r[2 * i], r[2 * i + 1], 1, 3, 9, 11, 5, 7, 13, 15);
    // s[i] = pairs of partial sums of columns [4i, 4i+2, 4i+1, 4i+3]
    const v u = __builtin_shufflevector(s[0], s[1], 0, 2, 8, 10, 4, 6, 12, 14) +
                __builtin_shufflevector(s[0], s[1], 1, 3, 9, 11, 5, 7, 13, 15);
    // u = columns [0, 2, 4, 6, 1, 3, 5, 7]
    return __builtin_shufflevector(u, u, 0, 4, 1, 5, 2, 6, 3, 7);
}

// Single output row, contiguous weights (ldw == 1, ldw2 == 1) and inner sizes
// that are multiples of 8: eight time steps at a time, each a vector of
// elementwise products reduced with hsum8x8.
inline void rowKernel1x8(const TapProduct& p, int rowOffset, int N, const float* bias, const float* R, int ldr,
                         float* Y, int ldy, bool accumulate) {
    using V = Vec<8>;
    using v = V::type;
    for (int t0 = 0; t0 < N; t0 += 8) {
        const int cols = N - t0 < 8 ? N - t0 : 8;
        v part[8];
#pragma GCC unroll 8
        for (int j = 0; j < 8; ++j) part[j] = V::splat(0.0f);
        for (int tap = 0; tap < p.taps; ++tap) {
            const float* NS_RESTRICT w = p.W + (size_t)tap * p.tapStride + rowOffset;
            const float* NS_RESTRICT x = p.X + (ptrdiff_t)(t0 + (p.xoff ? p.xoff[tap] : 0)) * p.ldx;
            for (int k = 0; k < p.K; k += 8) {
                const v wk = V::load(w + k);
                if (cols == 8) {
#pragma GCC unroll 8
                    for (int j = 0; j < 8; ++j) part[j] = vfma<8>(wk, V::load(x + (ptrdiff_t)j * p.ldx + k), part[j]);
                } else {
                    for (int j = 0; j < cols; ++j) part[j] = vfma<8>(wk, V::load(x + (ptrdiff_t)j * p.ldx + k), part[j]);
                }
            }
        }
        if (p.W2) {
            const float* NS_RESTRICT w = p.W2 + rowOffset;
            const float* NS_RESTRICT x = p.X2 + (ptrdiff_t)t0 * p.ldx2;
            for (int k = 0; k < p.K2; k += 8) {
                const v wk = V::load(w + k);
                for (int j = 0; j < cols; ++j) part[j] = vfma<8>(wk, V::load(x + (ptrdiff_t)j * p.ldx2 + k), part[j]);
            }
        }
        v s = hsum8x8(part);
        if (bias) s += V::splat(bias[rowOffset]);
        if (cols == 8 && ldy == 1 && !R && !accumulate) {
            V::store(Y + t0 + rowOffset, s);
            continue;
        }
        float out[8];
        V::store(out, s);
        for (int j = 0; j < cols; ++j) {
            float val = out[j];
            if (R) val += R[(ptrdiff_t)(t0 + j) * ldr + rowOffset];
            float* y = Y + (ptrdiff_t)(t0 + j) * ldy + rowOffset;
            *y = accumulate ? *y + val : val;
        }
    }
}

inline void rowKernel1(const TapProduct& p, int rowOffset, int N, const float* bias, const float* R, int ldr,
                       float* Y, int ldy, bool accumulate) {
    if (p.ldw == 1 && p.K % 8 == 0 && (!p.W2 || (p.ldw2 == 1 && p.K2 % 8 == 0))) {
        rowKernel1x8(p, rowOffset, N, bias, R, ldr, Y, ldy, accumulate);
        return;
    }
    using V = Vec<8>;
    for (int t = 0; t < N; ++t) {
        V::type part = V::splat(0.0f);
        float tail = 0.0f;
        for (int tap = 0; tap < p.taps; ++tap) {
            const float* w = p.W + (size_t)tap * p.tapStride + rowOffset;
            const float* x = p.X + (ptrdiff_t)(t + (p.xoff ? p.xoff[tap] : 0)) * p.ldx;
            int k = 0;
            if (p.ldw == 1)
                for (; k + 8 <= p.K; k += 8) part = vfma<8>(V::load(w + k), V::load(x + k), part);
            for (; k < p.K; ++k) tail = sfma(w[(size_t)k * p.ldw], x[k], tail);
        }
        if (p.W2) {
            const float* x = p.X2 + (ptrdiff_t)t * p.ldx2;
            for (int k = 0; k < p.K2; ++k) tail = sfma(p.W2[(size_t)k * p.ldw2 + rowOffset], x[k], tail);
        }
        float s = hsum8(part) + tail;
        if (bias) s += bias[rowOffset];
        if (R) s += R[(ptrdiff_t)t * ldr + rowOffset];
        float* y = Y + (ptrdiff_t)t * ldy + rowOffset;
        *y = accumulate ? *y + s : s;
    }
}

using RowsFn = void (*)(const TapProduct&, int, int, const float*, const float*, int, float*, int, bool);

// Row chunks are 16, 8, 4, 2 or 1 rows, each with its own vector kernel.
inline RowsFn rowsFn(int mr) {
    switch (mr) {
        // Chunks wider than the target's vectors run as several vectors per row block.
        case 16: return kMaxVW >= 16 ? &rowsKernel<16, 1> : kMaxVW >= 8 ? &rowsKernel<8, 2> : &rowsKernel<4, 4>;
        case 8: return kMaxVW >= 8 ? &rowsKernel<8, 1> : &rowsKernel<4, 2>;
        case 4: return &rowsKernel<4, 1>;
        case 2: return &rowsKernel<2, 1>;
        default: return &rowKernel1;
    }
}
inline int chunkRows(int remaining) {
    for (int c : {16, 8, 4, 2})
        if (remaining >= c) return c;
    return 1;
}

// A planned product: the row chunking is decided once (at prepare time), so the
// audio thread only walks a short list of function pointers.
class Product {
public:
    void plan(int M) {
        M_ = M;
        chunks_.clear();
        for (int r = 0; r < M;) {
            const int c = chunkRows(M - r);
            chunks_.push_back(Chunk{r, rowsFn(c)});
            r += c;
        }
    }
    int rows() const { return M_; }

    void run(const TapProduct& p, int N, const float* bias, const float* R, int ldr, float* Y, int ldy,
             bool accumulate = false) const {
        for (const Chunk& c : chunks_) c.fn(p, c.row, N, bias, R, ldr, Y, ldy, accumulate);
    }

private:
    struct Chunk {
        int row;
        RowsFn fn;
    };
    int M_ = 0;
    std::vector<Chunk> chunks_;
};

}  // namespace kern
}  // namespace nscore
