// GRU layer with the "reset after" formulation (Keras reset_after=True, PyTorch):
//   z = s(Wz x + bz + Uz h + rz), r = s(Wr x + br + Ur h + rr)
//   n = tanh(Wn x + bn + r (Un h + rn)), h = (1 - z) n + z h
// Gate rows in the order [z, r, n]. The input projection of a block is one
// matrix product; only U h runs per sample.
#pragma once

#include <cstring>

#include "../activations.h"
#include "../kernels.h"
#include "layer.h"
#include "recurrent_util.h"

namespace nscore {

class GRU : public Layer {
public:
    // Wx: 3H x in, U: 3H x H (column-major); bIn, bRec: 3H.
    GRU(int in, int H, Buffer Wx, Buffer U, Buffer bIn, Buffer bRec, long long storedWeights)
        : Layer(in, H), H_(H), Wx_(std::move(Wx)), U_(std::move(U)), bIn_(std::move(bIn)), bRec_(std::move(bRec)),
          stored_(storedWeights) {
        prod_.plan(3 * H);
        run_ = &GRU::runImpl<0>;
#define NS_X(n) \
    if (H == n) run_ = &GRU::runImpl<n>;
        NS_RNN_FIXED_SIZES(NS_X)
#undef NS_X
    }
    const char* kind() const override { return "gru"; }
    void prepare(int maxBlock) override {
        pre_.assign((size_t)3 * H_ * maxBlock, 0.0f);
        rec_.assign((size_t)3 * H_, 0.0f);
        scratch_.assign((size_t)3 * H_, 0.0f);
        h_.assign(H_, 0.0f);
    }
    void reset() noexcept override { std::fill(h_.begin(), h_.end(), 0.0f); }
    void forward(const float* X, float* Y, int N) noexcept override {
        kern::TapProduct p;
        p.W = Wx_.data();
        p.ldw = 3 * H_;
        p.K = in_;
        p.X = X;
        p.ldx = in_;
        prod_.run(p, N, bIn_.data(), nullptr, 0, pre_.data(), 3 * H_);
        (this->*run_)(Y, N);
    }
    long long numWeights() const override { return stored_; }
    long long macsPerSample() const override { return 3LL * H_ * (in_ + H_) + 3LL * H_; }
    bool recurrent() const override { return true; }

private:
    template <int HF>
    void runImpl(float* Y, int N) noexcept {
        const int H = HF > 0 ? HF : H_;
        float rl[HF > 0 ? 3 * HF : 1];
        float* rec = HF > 0 ? rl : rec_.data();
        float* h = h_.data();
        for (int t = 0; t < N; ++t) {
            float* pre = pre_.data() + (size_t)t * 3 * H;
            for (int i = 0; i < 3 * H; ++i) rec[i] = bRec_[i];
            rnn::matvecAcc<3 * HF>(U_.data(), h, rec, 3 * H, H, scratch_.data());
            // z and r: pre += rec, sigmoid over 2H contiguous values.
            for (int i = 0; i < 2 * H; ++i) pre[i] += rec[i];
            if (HF > 0)
                sigmoidFixed<2 * (HF > 0 ? HF : 1)>(pre);
            else
                sigmoidDyn(pre, 2 * H);
            float* n = pre + 2 * H;
            const float* r = pre + H;
            for (int i = 0; i < H; ++i) n[i] += r[i] * rec[2 * H + i];
            if (HF > 0)
                tanhFixed<(HF > 0 ? HF : 1)>(n);
            else
                tanhDyn(n, H);
            const float* z = pre;
            float* y = Y + (size_t)t * H;
            for (int i = 0; i < H; ++i) {
                h[i] = n[i] + z[i] * (h[i] - n[i]);
                y[i] = h[i];
            }
        }
    }

    int H_;
    Buffer Wx_, U_, bIn_, bRec_;
    Buffer h_, pre_, rec_, scratch_;
    long long stored_;
    kern::Product prod_;
    void (GRU::*run_)(float*, int) noexcept;
};

}  // namespace nscore
