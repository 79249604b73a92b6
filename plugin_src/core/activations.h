// Activation functions applied in place to contiguous float arrays.
// tanh uses the core's own vectorised kernel (kern::vtanh in simd.h: a rational
// approximation with Eigen 3.4's coefficients, accurate to a few ulp); sigmoid is
// computed as 0.5 + 0.5 tanh(x/2) so it shares that fast path.
#pragma once

#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <string>

#include "simd.h"

namespace nscore {

enum class Act { Identity, Tanh, Sigmoid, ReLU, LeakyReLU, ELU, Softmax, Hardtanh };

inline const char* actName(Act a) {
    switch (a) {
        case Act::Identity: return "identity";
        case Act::Tanh: return "tanh";
        case Act::Sigmoid: return "sigmoid";
        case Act::ReLU: return "relu";
        case Act::LeakyReLU: return "leakyrelu";
        case Act::ELU: return "elu";
        case Act::Softmax: return "softmax";
        case Act::Hardtanh: return "hardtanh";
    }
    return "?";
}

// In-place tanh (or sigmoid = 0.5 + 0.5 tanh(x/2)) of n contiguous floats with
// the vectorised kernel; the tail runs through the same kernel on a padded copy,
// so every element gets bit-identical treatment wherever it sits.
template <bool Sigmoid>
inline void tanhArray(float* x, size_t n) noexcept {
    constexpr int W = kern::kMaxVW;
    using V = kern::Vec<W>;
    size_t i = 0;
    for (; i + W <= n; i += W) {
        V::type v = V::load(x + i);
        if (Sigmoid) v = kern::vfma<W>(kern::vtanh<W>(0.5f * v), 0.5f, 0.5f);
        else v = kern::vtanh<W>(v);
        V::store(x + i, v);
    }
    if (i < n) {
        float tmp[W] = {0};
        for (size_t j = i; j < n; ++j) tmp[j - i] = x[j];
        V::type v = V::load(tmp);
        if (Sigmoid) v = kern::vfma<W>(kern::vtanh<W>(0.5f * v), 0.5f, 0.5f);
        else v = kern::vtanh<W>(v);
        V::store(tmp, v);
        for (size_t j = i; j < n; ++j) x[j] = tmp[j - i];
    }
}

struct Activation {
    Act kind = Act::Identity;
    float alpha = 0.01f;  // LeakyReLU slope / ELU alpha

    using ArrMap = Eigen::Map<Eigen::ArrayXf>;

    // x: rows x n, column-major, contiguous (ld == rows).
    void apply(float* x, int rows, int n) const noexcept {
        const Eigen::Index len = (Eigen::Index)rows * n;
        ArrMap a(x, len);
        switch (kind) {
            case Act::Identity: break;
            case Act::Tanh: tanhArray<false>(x, (size_t)len); break;
            case Act::Sigmoid: tanhArray<true>(x, (size_t)len); break;
            case Act::ReLU: a = a.max(0.0f); break;
            case Act::LeakyReLU: a = (a >= 0.0f).select(a, a * alpha); break;
            case Act::ELU: a = (a > 0.0f).select(a, (a.exp() - 1.0f) * alpha); break;
            case Act::Hardtanh: a = a.max(-1.0f).min(1.0f); break;
            case Act::Softmax:
                for (int t = 0; t < n; ++t) {
                    ArrMap c(x + (size_t)t * rows, rows);
                    const float m = c.maxCoeff();
                    c = (c - m).exp();
                    c /= c.sum();
                }
                break;
        }
    }
};

inline void tanhDyn(float* x, int n) noexcept { tanhArray<false>(x, (size_t)n); }
inline void sigmoidDyn(float* x, int n) noexcept { tanhArray<true>(x, (size_t)n); }

}  // namespace nscore
