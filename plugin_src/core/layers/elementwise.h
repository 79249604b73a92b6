// Per-channel layers: BatchNorm1D (inference form), PReLU, and a bare activation.
#pragma once

#include <cmath>
#include <cstring>

#include "../activations.h"
#include "layer.h"

namespace nscore {

// y = x * scale[c] + shift[c]; scale = gamma / sqrt(var + eps), shift = beta - mean * scale.
class BatchNorm1D : public Layer {
public:
    BatchNorm1D(int ch, const Buffer& gamma, const Buffer& beta, const Buffer& mean, const Buffer& var, float eps,
                long long storedWeights)
        : Layer(ch, ch), scale_(ch), shift_(ch), stored_(storedWeights) {
        for (int c = 0; c < ch; ++c) {
            const float s = gamma[c] / std::sqrt(var[c] + eps);
            scale_[c] = s;
            shift_[c] = beta[c] - mean[c] * s;
        }
    }
    const char* kind() const override { return "batchnorm"; }
    void forward(const float* X, float* Y, int N) noexcept override {
        for (int t = 0; t < N; ++t) {
            const float* x = X + (size_t)t * in_;
            float* y = Y + (size_t)t * in_;
            for (int c = 0; c < in_; ++c) y[c] = x[c] * scale_[c] + shift_[c];
        }
    }
    long long numWeights() const override { return stored_; }
    long long macsPerSample() const override { return in_; }

private:
    Buffer scale_, shift_;
    long long stored_;
};

class PReLU : public Layer {
public:
    PReLU(int ch, Buffer alpha, long long storedWeights) : Layer(ch, ch), alpha_(std::move(alpha)), stored_(storedWeights) {}
    const char* kind() const override { return "prelu"; }
    void forward(const float* X, float* Y, int N) noexcept override {
        for (int t = 0; t < N; ++t) {
            const float* x = X + (size_t)t * in_;
            float* y = Y + (size_t)t * in_;
            for (int c = 0; c < in_; ++c) y[c] = x[c] >= 0.0f ? x[c] : alpha_[c] * x[c];
        }
    }
    long long numWeights() const override { return stored_; }
    long long macsPerSample() const override { return in_; }

private:
    Buffer alpha_;
    long long stored_;
};

class ActivationLayer : public Layer {
public:
    ActivationLayer(int ch, Activation act) : Layer(ch, ch), act_(act) {}
    const char* kind() const override { return "activation"; }
    void forward(const float* X, float* Y, int N) noexcept override {
        std::memcpy(Y, X, sizeof(float) * (size_t)in_ * N);
        act_.apply(Y, in_, N);
    }
    long long numWeights() const override { return 0; }
    long long macsPerSample() const override { return 0; }

private:
    Activation act_;
};

}  // namespace nscore
