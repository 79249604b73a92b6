// Causal streaming 1-D convolution with dilation and groups:
//   Y(o, t) = b(o) + sum_tap sum_{c in group(o)} W_tap(o, c) X(c, t - d (K - 1 - tap))
// History before the first sample is zero.
#pragma once

#include "../activations.h"
#include "../kernels.h"
#include "history.h"
#include "layer.h"

namespace nscore {

class Conv1D : public Layer {
public:
    // W: K taps, each out x (in/groups) column-major: element (tap, o, c_local)
    // at W[tap * out * cg + c_local * out + o].
    Conv1D(int in, int out, int kernel, int dilation, int groups, Buffer W, Buffer bias, Activation act = {})
        : Layer(in, out), K_(kernel), d_(dilation), G_(groups), W_(std::move(W)), b_(std::move(bias)), act_(act) {
        prod_.plan(out / groups);
        for (int tap = 0; tap < K_; ++tap) xoff_.push_back(-d_ * (K_ - 1 - tap));
    }
    const char* kind() const override { return "conv1d"; }
    void prepare(int maxBlock) override { hist_.prepare(in_, d_ * (K_ - 1), maxBlock); }
    void reset() noexcept override { hist_.reset(); }

    void forward(const float* X, float* Y, int N) noexcept override {
        float* cur = hist_.beginBlock(N);
        std::memcpy(cur, X, sizeof(float) * (size_t)in_ * N);
        const int cg = in_ / G_, og = out_ / G_;
        for (int g = 0; g < G_; ++g) {
            kern::TapProduct p;
            p.W = W_.data() + (size_t)g * og;
            p.ldw = out_;
            p.tapStride = out_ * cg;
            p.K = cg;
            p.taps = K_;
            p.xoff = xoff_.data();
            p.X = cur + (size_t)g * cg;
            p.ldx = in_;
            prod_.run(p, N, b_.empty() ? nullptr : b_.data() + (size_t)g * og, nullptr, 0, Y + (size_t)g * og, out_);
        }
        hist_.advance(N);
        act_.apply(Y, out_, N);
    }
    long long numWeights() const override { return (long long)W_.size() + (long long)b_.size(); }
    long long macsPerSample() const override { return (long long)K_ * (in_ / G_) * out_; }
    int receptiveField() const override { return d_ * (K_ - 1) + 1; }
    size_t stateFloats() const override { return hist_.floats(); }

private:
    int K_, d_, G_;
    Buffer W_, b_;
    Activation act_;
    std::vector<int> xoff_;
    History hist_;
    kern::Product prod_;
};

}  // namespace nscore
