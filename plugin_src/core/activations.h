// Activation functions applied in place to contiguous float arrays.
// tanh uses Eigen's vectorised rational approximation (accurate to a few ulp);
// sigmoid is computed as 0.5 + 0.5 tanh(x/2) so it shares that fast path.
#pragma once

#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <string>

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
            case Act::Tanh: a = a.tanh(); break;
            case Act::Sigmoid: a = (a * 0.5f).tanh() * 0.5f + 0.5f; break;
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

template <int N>
inline void tanhFixed(float* x) noexcept {
    Eigen::Map<Eigen::Array<float, N, 1>> a(x);
    a = a.tanh();
}
template <int N>
inline void sigmoidFixed(float* x) noexcept {
    Eigen::Map<Eigen::Array<float, N, 1>> a(x);
    a = (a * 0.5f).tanh() * 0.5f + 0.5f;
}
inline void tanhDyn(float* x, int n) noexcept {
    Eigen::Map<Eigen::ArrayXf> a(x, n);
    a = a.tanh();
}
inline void sigmoidDyn(float* x, int n) noexcept {
    Eigen::Map<Eigen::ArrayXf> a(x, n);
    a = (a * 0.5f).tanh() * 0.5f + 0.5f;
}

}  // namespace nscore
