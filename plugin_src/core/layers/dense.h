// Dense (fully connected) layer: Y = act(W X + b).
#pragma once

#include "../activations.h"
#include "../kernels.h"
#include "layer.h"

namespace nscore {

class Dense : public Layer {
public:
    // W: out x in, column-major (element (o, i) at W[i * out + o]); bias empty or out.
    Dense(int in, int out, Buffer W, Buffer bias, Activation act = {})
        : Layer(in, out), W_(std::move(W)), b_(std::move(bias)), act_(act) {
        prod_.plan(out);
    }
    const char* kind() const override { return "dense"; }
    void forward(const float* X, float* Y, int N) noexcept override {
        kern::TapProduct p;
        p.W = W_.data();
        p.ldw = out_;
        p.K = in_;
        p.X = X;
        p.ldx = in_;
        prod_.run(p, N, b_.empty() ? nullptr : b_.data(), nullptr, 0, Y, out_);
        act_.apply(Y, out_, N);
    }
    long long numWeights() const override { return (long long)W_.size() + (long long)b_.size(); }
    long long macsPerSample() const override { return (long long)in_ * out_; }

private:
    Buffer W_, b_;
    Activation act_;
    kern::Product prod_;
};

}  // namespace nscore
