// LSTM layer (one layer of a stack). Gate semantics of PyTorch / Keras:
//   i, f, o = sigmoid(.), g = tanh(.), c = f c + i g, h = o tanh(c)
// Internally the gate rows are stored in the order [i, f, o, g] so the three
// sigmoids are one contiguous vector operation. The input projection of a
// whole block is one matrix product; only U h runs per sample.
#pragma once

#include <algorithm>
#include <cstring>

#include "../activations.h"
#include "../kernels.h"
#include "layer.h"
#include "recurrent_util.h"

namespace nscore {

class LSTM : public Layer {
public:
    // Wx: 4H x in, U: 4H x H (column-major), b: 4H, all in gate order [i, f, o, g].
    // h0 / c0: initial state (empty = zeros).
    LSTM(int in, int H, Buffer Wx, Buffer U, Buffer b, Buffer h0, Buffer c0, long long storedWeights)
        : Layer(in, H), H_(H), Wx_(std::move(Wx)), U_(std::move(U)), b_(std::move(b)), h0_(std::move(h0)),
          c0_(std::move(c0)), stored_(storedWeights) {
        if (h0_.empty()) h0_.assign(H, 0.0f);
        if (c0_.empty()) c0_.assign(H, 0.0f);
        prod_.plan(4 * H);
        run_ = &LSTM::runImpl<0>;
#define NS_X(n) \
    if (H == n) run_ = &LSTM::runImpl<n>;
        NS_RNN_FIXED_SIZES(NS_X)
#undef NS_X
    }
    const char* kind() const override { return "lstm"; }
    void prepare(int maxBlock) override {
        pre_.assign((size_t)4 * H_ * maxBlock, 0.0f);
        g_.assign((size_t)4 * H_, 0.0f);
        scratch_.assign((size_t)4 * H_, 0.0f);
        tmp_.assign((size_t)H_, 0.0f);
        h_ = h0_;
        c_ = c0_;
    }
    void reset() noexcept override {
        std::copy(h0_.begin(), h0_.end(), h_.begin());
        std::copy(c0_.begin(), c0_.end(), c_.begin());
    }
    void forward(const float* X, float* Y, int N) noexcept override {
        kern::TapProduct p;
        p.W = Wx_.data();
        p.ldw = 4 * H_;
        p.K = in_;
        p.X = X;
        p.ldx = in_;
        prod_.run(p, N, b_.data(), nullptr, 0, pre_.data(), 4 * H_);
        (this->*run_)(Y, N);
    }
    long long numWeights() const override { return stored_; }
    long long macsPerSample() const override { return 4LL * H_ * (in_ + H_) + 3LL * H_; }
    bool recurrent() const override { return true; }

private:
    template <int HF>
    void runImpl(float* Y, int N) noexcept {
        const int H = HF > 0 ? HF : H_;
        float gl[HF > 0 ? 4 * HF : 1];
        float tl[HF > 0 ? HF : 1];
        float* g = HF > 0 ? gl : g_.data();
        float* tc = HF > 0 ? tl : tmp_.data();
        float* h = h_.data();
        float* c = c_.data();
        for (int t = 0; t < N; ++t) {
            const float* pre = pre_.data() + (size_t)t * 4 * H;
            for (int i = 0; i < 4 * H; ++i) g[i] = pre[i];
            rnn::matvecAcc<4 * HF>(U_.data(), h, g, 4 * H, H, scratch_.data());
            if (HF > 0) {
                sigmoidFixed<3 * (HF > 0 ? HF : 1)>(g);
                tanhFixed<(HF > 0 ? HF : 1)>(g + 3 * H);
            } else {
                sigmoidDyn(g, 3 * H);
                tanhDyn(g + 3 * H, H);
            }
            const float* ig = g;
            const float* fg = g + H;
            const float* og = g + 2 * H;
            const float* gg = g + 3 * H;
            for (int i = 0; i < H; ++i) {
                c[i] = fg[i] * c[i] + ig[i] * gg[i];
                tc[i] = c[i];
            }
            if (HF > 0)
                tanhFixed<(HF > 0 ? HF : 1)>(tc);
            else
                tanhDyn(tc, H);
            float* y = Y + (size_t)t * H;
            for (int i = 0; i < H; ++i) {
                h[i] = og[i] * tc[i];
                y[i] = h[i];
            }
        }
    }

    int H_;
    Buffer Wx_, U_, b_, h0_, c0_;
    Buffer h_, c_, pre_, g_, scratch_, tmp_;
    long long stored_;
    kern::Product prod_;
    void (LSTM::*run_)(float*, int) noexcept;
};

}  // namespace nscore
