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
        // The sigmoid gates are computed as 0.5 + 0.5 tanh(x / 2): fold the 1/2
        // into their rows (exact in float) so one tanh pass covers all 4H gates.
        for (int j = 0; j < in; ++j)
            for (int r = 0; r < 3 * H; ++r) Wx_[(size_t)j * 4 * H + r] *= 0.5f;
        for (int j = 0; j < H; ++j)
            for (int r = 0; r < 3 * H; ++r) U_[(size_t)j * 4 * H + r] *= 0.5f;
        for (int r = 0; r < 3 * H; ++r) b_[r] *= 0.5f;
        if (h0_.empty()) h0_.assign(H, 0.0f);
        if (c0_.empty()) c0_.assign(H, 0.0f);
        prod_.plan(4 * H);
        run_ = &LSTM::runImpl<0, false>;
#define NS_X(n) \
    if (H == n) {                            \
        run_ = &LSTM::runImpl<n, false>;     \
        if (in == 1) run1_ = &LSTM::runImpl<n, true>; \
    }
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
        if (run1_) {
            (this->*run1_)(X, Y, N);
            return;
        }
        kern::TapProduct p;
        p.W = Wx_.data();
        p.ldw = 4 * H_;
        p.K = in_;
        p.X = X;
        p.ldx = in_;
        prod_.run(p, N, b_.data(), nullptr, 0, pre_.data(), 4 * H_);
        (this->*run_)(X, Y, N);
    }
    long long numWeights() const override { return stored_; }
    long long macsPerSample() const override { return 4LL * H_ * (in_ + H_) + 3LL * H_; }
    bool recurrent() const override { return true; }
    size_t stateFloats() const override {
        return pre_.size() + g_.size() + scratch_.size() + tmp_.size() + h_.size() + c_.size();
    }

private:
    // One step of the cell from the gate pre-activations gs = [i, f, o, g] (the
    // sigmoid rows already halved): returns c' and sets h'. Arranged for the
    // dependency chain h -> gates -> c' -> h': i g = (1 + tanh) * (g / 2) is one
    // FMA on the two tanh outputs (the 1/2 rides in g's tanh), and o scales the
    // last tanh inside its evaluation.
    template <int VW>
    static NS_INLINE typename kern::Vec<VW>::type cellStep(const typename kern::Vec<VW>::type (&gs)[4],
                                                            typename kern::Vec<VW>::type c,
                                                            typename kern::Vec<VW>::type& h) {
        using V = kern::Vec<VW>;
        using v = typename V::type;
        const v ti = kern::vtanhLat<VW>(gs[0]);
        const v fg = kern::vfma<VW>(kern::vtanhLat<VW>(gs[1]), 0.5f, 0.5f);
        const v og = kern::vfma<VW>(kern::vtanhLat<VW>(gs[2]), 0.5f, 0.5f);
        const v hg = kern::vtanhScaled<VW>(gs[3], V::splat(0.5f));
        const v cn = kern::vfma<VW>(fg, c, kern::vfma<VW>(ti, hg, hg));
        h = kern::vtanhScaled<VW>(cn, og);
        return cn;
    }

    // HF > 0: hidden size fixed at compile time (a multiple of 8); HF == 0: any size.
    // In1: one input channel, whose projection W x + b is formed inside the step.
    template <int HF, bool In1>
    void runImpl(const float* NS_RESTRICT X, float* Y, int N) noexcept {
        const int H = HF > 0 ? HF : H_;
        constexpr int VW = rnn::stepWidth<HF>();
        float* NS_RESTRICT h = h_.data();
        float* NS_RESTRICT c = c_.data();
        float* NS_RESTRICT g = g_.data();  // the generic path's gate scratch
        if constexpr (HF > 0 && HF == VW && VW <= 8) {
            // One vector holds the whole hidden state: h and c live in registers for the
            // block. (Measured slower for 16 lanes: the lane shuffles compete with the
            // 512-bit FMAs for the same port, so H = 16 keeps h in memory.)
            using V = kern::Vec<VW>;
            using v = typename V::type;
            v hv = V::load(h), cv = V::load(c);
            const float* NS_RESTRICT U = U_.data();
            for (int t = 0; t < N; ++t) {
                const float* NS_RESTRICT pre = pre_.data() + (size_t)t * 4 * HF;
                v acc[4][4];
#pragma GCC unroll 4
                for (int gate = 0; gate < 4; ++gate) {
                    acc[0][gate] = rnn::inputRows<VW, In1>(Wx_.data(), b_.data(), pre, X[t], gate * HF);
                    acc[1][gate] = acc[2][gate] = acc[3][gate] = V::splat(0.0f);
                }
                rnn::matvecReg<VW, 4>(acc, U, hv, std::make_index_sequence<HF>{});
                v gs[4];
#pragma GCC unroll 4
                for (int gate = 0; gate < 4; ++gate) gs[gate] = (acc[0][gate] + acc[1][gate]) + (acc[2][gate] + acc[3][gate]);
                cv = cellStep<VW>(gs, cv, hv);
                V::store(Y + (size_t)t * HF, hv);
            }
            V::store(h, hv);
            V::store(c, cv);
            return;
        }
        for (int t = 0; t < N; ++t) {
            const float* NS_RESTRICT pre = pre_.data() + (size_t)t * 4 * H;
            if constexpr (HF > 0) {
                // Fixed size: the whole step stays in vector registers.
                using V = kern::Vec<VW>;
                using v = typename V::type;
                constexpr int NH = HF / VW;
                v acc[4][4][NH];  // [chain][gate][vector]
#pragma GCC unroll 4
                for (int gate = 0; gate < 4; ++gate)
#pragma GCC unroll 8
                    for (int q = 0; q < NH; ++q) {
                        acc[0][gate][q] = rnn::inputRows<VW, In1>(Wx_.data(), b_.data(), pre, X[t], gate * HF + q * VW);
                        acc[1][gate][q] = acc[2][gate][q] = acc[3][gate][q] = V::splat(0.0f);
                    }
                const float* NS_RESTRICT U = U_.data();
                static_assert(HF % 4 == 0, "fixed sizes are multiples of 8");
                for (int k = 0; k < HF; k += 4) {
                    const float* u = U + (size_t)k * 4 * HF;
#pragma GCC unroll 4
                    for (int gate = 0; gate < 4; ++gate)
#pragma GCC unroll 8
                        for (int q = 0; q < NH; ++q) {
                            const int o = gate * HF + q * VW;
                            // Four chains when the accumulators fit the register file, else two.
                            constexpr int CH = 4 * NH * 4 <= 24 ? 4 : 2;
                            acc[0][gate][q] = kern::vfma<VW>(V::load(u + o), h[k], acc[0][gate][q]);
                            acc[1 % CH][gate][q] = kern::vfma<VW>(V::load(u + 4 * HF + o), h[k + 1], acc[1 % CH][gate][q]);
                            acc[2 % CH][gate][q] = kern::vfma<VW>(V::load(u + 2 * 4 * HF + o), h[k + 2], acc[2 % CH][gate][q]);
                            acc[3 % CH][gate][q] = kern::vfma<VW>(V::load(u + 3 * 4 * HF + o), h[k + 3], acc[3 % CH][gate][q]);
                        }
                }
                float* NS_RESTRICT y = Y + (size_t)t * H;
#pragma GCC unroll 8
                for (int q = 0; q < NH; ++q) {
                    v gs[4];
#pragma GCC unroll 4
                    for (int gate = 0; gate < 4; ++gate)
                        gs[gate] = (acc[0][gate][q] + acc[1][gate][q]) + (acc[2][gate][q] + acc[3][gate][q]);
                    v hn;
                    const v cn = cellStep<VW>(gs, V::load(c + q * VW), hn);
                    V::store(c + q * VW, cn);
                    V::store(h + q * VW, hn);
                    V::store(y + q * VW, hn);
                }
            } else {
                for (int i = 0; i < 4 * H; ++i) g[i] = pre[i];
                rnn::matvecAcc<0>(U_.data(), h, g, 4 * H, H, scratch_.data());
                tanhDyn(g, 4 * H);
                // i, f, o = 0.5 + 0.5 tanh(.), g = tanh(.)
                float* NS_RESTRICT tc = tmp_.data();
                for (int i = 0; i < H; ++i) {
                    const float ig = 0.5f + 0.5f * g[i], fg = 0.5f + 0.5f * g[H + i];
                    c[i] = fg * c[i] + ig * g[3 * H + i];
                    tc[i] = c[i];
                }
                tanhDyn(tc, H);
                float* NS_RESTRICT y = Y + (size_t)t * H;
                for (int i = 0; i < H; ++i) {
                    const float val = (0.5f + 0.5f * g[2 * H + i]) * tc[i];
                    h[i] = val;
                    y[i] = val;
                }
            }
        }
    }

    int H_;
    Buffer Wx_, U_, b_, h0_, c0_;
    Buffer h_, c_, pre_, g_, scratch_, tmp_;
    long long stored_;
    kern::Product prod_;
    void (LSTM::*run_)(const float*, float*, int) noexcept;
    void (LSTM::*run1_)(const float*, float*, int) noexcept = nullptr;  // one-input fixed-size path, if any
};

}  // namespace nscore
