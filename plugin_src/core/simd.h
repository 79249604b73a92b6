// Portable SIMD helpers (GCC / Clang vector extensions) and a vectorised tanh.
#pragma once

#include <cstddef>

#if defined(__AVX512F__) || defined(__AVX__)
#include <immintrin.h>
#endif

#if defined(__GNUC__)
#define NS_INLINE inline __attribute__((always_inline))
#define NS_RESTRICT __restrict__
#else
#define NS_INLINE inline
#define NS_RESTRICT
#endif

namespace nscore {
namespace kern {

// The widest vector of floats the target has registers for: 16 with AVX-512, 8 with
// AVX, 4 otherwise. Kernels take their width from this; a wider vector type would
// still compile (GCC splits it) but through memory and scalar code, several times slower.
#if defined(__AVX512F__)
constexpr int kMaxVW = 16;
#elif defined(__AVX__)
constexpr int kMaxVW = 8;
#else
constexpr int kMaxVW = 4;
#endif

// Portable SIMD through the GCC/Clang vector extension: a vector of VW floats
// compiles to one register where the target has that width (AVX-512, AVX, SSE,
// NEON) and to several where it does not. Loads and stores are unaligned.
template <int VW>
struct Vec {
    typedef float type __attribute__((vector_size(VW * 4)));
    typedef float utype __attribute__((vector_size(VW * 4), aligned(4)));
    static NS_INLINE type load(const float* p) { return *reinterpret_cast<const utype*>(p); }
    static NS_INLINE void store(float* p, type v) { *reinterpret_cast<utype*>(p) = v; }
    static NS_INLINE type splat(float x) {
        // A plain broadcast (0 + x would cost an add under strict FP, and turn -0 into +0).
        float lanes[VW];
        for (int i = 0; i < VW; ++i) lanes[i] = x;
        return load(lanes);
    }
};

// Fused multiply-add, spelled out. The core is compiled with -ffp-contract=off so
// that every build of it (bridge, plugins, tests) rounds identically whatever the
// compiler's inlining decisions: a*b+c is fused exactly where the code says so.
template <int VW>
NS_INLINE typename Vec<VW>::type vfma(typename Vec<VW>::type a, typename Vec<VW>::type b, typename Vec<VW>::type c) {
    using v = typename Vec<VW>::type;
#if defined(__AVX512F__)
    if constexpr (VW == 16) return (v)_mm512_fmadd_ps((__m512)a, (__m512)b, (__m512)c);
#endif
#if defined(__FMA__)
    if constexpr (VW == 16) {  // no AVX-512: two fused 256-bit halves
        using h = typename Vec<8>::type;
        const h lo = (h)_mm256_fmadd_ps((__m256)__builtin_shufflevector(a, a, 0, 1, 2, 3, 4, 5, 6, 7),
                                        (__m256)__builtin_shufflevector(b, b, 0, 1, 2, 3, 4, 5, 6, 7),
                                        (__m256)__builtin_shufflevector(c, c, 0, 1, 2, 3, 4, 5, 6, 7));
        const h hi = (h)_mm256_fmadd_ps((__m256)__builtin_shufflevector(a, a, 8, 9, 10, 11, 12, 13, 14, 15),
                                        (__m256)__builtin_shufflevector(b, b, 8, 9, 10, 11, 12, 13, 14, 15),
                                        (__m256)__builtin_shufflevector(c, c, 8, 9, 10, 11, 12, 13, 14, 15));
        return __builtin_shufflevector(lo, hi, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    }
    if constexpr (VW == 8) return (v)_mm256_fmadd_ps((__m256)a, (__m256)b, (__m256)c);
    if constexpr (VW == 4) return (v)_mm_fmadd_ps((__m128)a, (__m128)b, (__m128)c);
    if constexpr (VW == 2) {
        v r;
        for (int i = 0; i < 2; ++i) r[i] = __builtin_fmaf(a[i], b[i], c[i]);
        return r;
    }
#elif defined(__clang__) && defined(__has_builtin)
#if __has_builtin(__builtin_elementwise_fma)
    return __builtin_elementwise_fma(a, b, c);
#endif
#endif
    return a * b + c;  // no FMA in this ISA: unfused, and the same in every build of it
}
template <int VW>
NS_INLINE typename Vec<VW>::type vfma(typename Vec<VW>::type a, float b, typename Vec<VW>::type c) {
    return vfma<VW>(a, Vec<VW>::splat(b), c);
}
template <int VW>
NS_INLINE typename Vec<VW>::type vfma(typename Vec<VW>::type a, typename Vec<VW>::type b, float c) {
    return vfma<VW>(a, b, Vec<VW>::splat(c));
}
template <int VW>
NS_INLINE typename Vec<VW>::type vfma(typename Vec<VW>::type a, float b, float c) {
    return vfma<VW>(a, Vec<VW>::splat(b), Vec<VW>::splat(c));
}
NS_INLINE float sfma(float a, float b, float c) {
#if defined(__FMA__) || defined(__aarch64__)
    return __builtin_fmaf(a, b, c);
#else
    return a * b + c;
#endif
}

// p / q. Where the ISA has a reciprocal estimate, use it and fold one Newton
// step into the quotient: y0 = p r0, y = y0 + y0 (1 - q r0) (relative error
// ~1e-7). The divider is not pipelined (a 512-bit divide blocks it for ~16
// cycles) and the activations need many quotients; the folded form is also one
// multiply shorter than refining 1/q first.
template <int VW>
NS_INLINE typename Vec<VW>::type vdiv(typename Vec<VW>::type p, typename Vec<VW>::type q) {
    using v = typename Vec<VW>::type;
    v r;
#if defined(__AVX512F__)
    if constexpr (VW == 16) {
        r = (v)_mm512_rcp14_ps((__m512)q);
    } else
#endif
#if defined(__AVX512VL__)
    if constexpr (VW == 8) {
        r = (v)_mm256_rcp14_ps((__m256)q);
    } else if constexpr (VW == 4) {
        r = (v)_mm_rcp14_ps((__m128)q);
    } else
#elif defined(__AVX__)
    if constexpr (VW == 8) {
        r = (v)_mm256_rcp_ps((__m256)q);  // 12 bits: one plain Newton step first
        r = vfma<VW>(r, vfma<VW>(-q, r, 1.0f), r);
    } else if constexpr (VW == 4) {
        r = (v)_mm_rcp_ps((__m128)q);
        r = vfma<VW>(r, vfma<VW>(-q, r, 1.0f), r);
    } else
#endif
    {
        return p / q;
    }
    const v e = vfma<VW>(-q, r, 1.0f);
    const v y0 = p * r;
    return vfma<VW>(y0, e, y0);
}

// tanh(x) ~ x P(x^2) / Q(x^2) on [-L, L], L = 7.9053 (beyond it float tanh is
// +-1): the degree-13/6 rational approximation Eigen 3.4 uses (coefficients from
// Eigen's generic_fast_tanh_float), evaluated with Estrin's scheme, since the
// recurrent layers are latency bound and a shallow tree matters more there than
// the operation count. Returns the numerator's polynomial P and Q.
constexpr float kTanhLimit = 7.90531110763549805f;
template <int VW>
NS_INLINE void tanhPQ(typename Vec<VW>::type x, typename Vec<VW>::type& P, typename Vec<VW>::type& Q) {
    using V = Vec<VW>;
    using v = typename V::type;
    const v x2 = x * x;
    const v x4 = x2 * x2;
    const v x8 = x4 * x4;
    const v p01 = vfma<VW>(x2, 6.37261928875436e-04f, V::splat(4.89352455891786e-03f));
    const v p23 = vfma<VW>(x2, 5.12229709037114e-08f, V::splat(1.48572235717979e-05f));
    const v p45 = vfma<VW>(x2, 2.00018790482477e-13f, V::splat(-8.60467152213735e-11f));
    const v p03 = vfma<VW>(p23, x4, p01);
    const v p46 = vfma<VW>(x4, -2.76076847742355e-16f, p45);
    P = vfma<VW>(p46, x8, p03);
    const v q01 = vfma<VW>(x2, 2.26843463243900e-03f, V::splat(4.89352518554385e-03f));
    const v q23 = vfma<VW>(x2, 1.19825839466702e-06f, V::splat(1.18534705686654e-04f));
    Q = vfma<VW>(q23, x4, q01);
}

// Clamp to [-L, L] with a min and a max, in the order that keeps NaN a NaN
// (VRANGEPS would be one instruction, but it turns NaN into L).
template <int VW>
NS_INLINE typename Vec<VW>::type vclampSym(typename Vec<VW>::type x, float L) {
    using V = Vec<VW>;
    using v = typename V::type;
    const v hi = V::splat(L), lo = V::splat(-L);
    x = x > hi ? hi : x;
    return x < lo ? lo : x;
}

// tanh for throughput (activations over whole blocks): clamp, then the rational.
template <int VW>
NS_INLINE typename Vec<VW>::type vtanh(typename Vec<VW>::type x) {
    using v = typename Vec<VW>::type;
    x = vclampSym<VW>(x, kTanhLimit);
    v P, Q;
    tanhPQ<VW>(x, P, Q);
    return vdiv<VW>(x * P, Q);
}

// s * tanh(x) for latency (the recurrent steps, where every cycle between two
// samples counts): the rational runs on x unclamped and the saturated lanes
// (|x| > L, +-inf) are replaced by +-s at the end, so no clamp sits on the
// dependency chain; a scale s >= 0 costs nothing there either (it multiplies x
// while the polynomials are being formed). NaN stays NaN.
template <int VW>
NS_INLINE typename Vec<VW>::type vtanhScaled(typename Vec<VW>::type x, typename Vec<VW>::type s) {
    using v = typename Vec<VW>::type;
    typedef int iv __attribute__((vector_size(VW * 4)));
    v P, Q;
    tanhPQ<VW>(x, P, Q);
    const v y = vdiv<VW>((x * s) * P, Q);
    const iv xi = (iv)x;
    const v ax = (v)(xi & 0x7fffffff);
    const v sat = (v)((xi & (int)0x80000000) | (iv)s);  // copysign(s, x)
    return ax > kTanhLimit ? sat : y;
}
template <int VW>
NS_INLINE typename Vec<VW>::type vtanhLat(typename Vec<VW>::type x) {
    return vtanhScaled<VW>(x, Vec<VW>::splat(1.0f));
}

}  // namespace kern
}  // namespace nscore
