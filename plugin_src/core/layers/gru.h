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
        // z and r are computed as 0.5 + 0.5 tanh(x / 2): fold the 1/2 into their rows (exact).
        for (int j = 0; j < in; ++j)
            for (int r = 0; r < 2 * H; ++r) Wx_[(size_t)j * 3 * H + r] *= 0.5f;
        // The n gate's recurrent rows are halved too: r (Un h + bn) = (1 + tanh) (Un h + bn) / 2
        // is then one FMA on the tanh output.
        for (int j = 0; j < H; ++j)
            for (int r = 0; r < 3 * H; ++r) U_[(size_t)j * 3 * H + r] *= 0.5f;
        for (int r = 0; r < 3 * H; ++r) {
            if (r < 2 * H) bIn_[r] *= 0.5f;
            bRec_[r] *= 0.5f;
        }
        prod_.plan(3 * H);
        run_ = &GRU::runImpl<0, false>;
#define NS_X(n) \
    if (H == n) {                           \
        run_ = &GRU::runImpl<n, false>;     \
        if (in == 1) run1_ = &GRU::runImpl<n, true>; \
    }
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
        if (run1_) {
            (this->*run1_)(X, Y, N);
            return;
        }
        kern::TapProduct p;
        p.W = Wx_.data();
        p.ldw = 3 * H_;
        p.K = in_;
        p.X = X;
        p.ldx = in_;
        prod_.run(p, N, bIn_.data(), nullptr, 0, pre_.data(), 3 * H_);
        (this->*run_)(X, Y, N);
    }
    long long numWeights() const override { return stored_; }
    long long macsPerSample() const override { return 3LL * H_ * (in_ + H_) + 3LL * H_; }
    bool recurrent() const override { return true; }
    size_t stateFloats() const override { return pre_.size() + rec_.size() + scratch_.size() + h_.size(); }

private:
    // The gates from the recurrent sums rs = [z, r, n] (z and r including the
    // input projection, all rows halved) and the n gate's input projection xn:
    // returns h' = (1 - z) n + z h, arranged for the chain h -> r -> n -> h'.
    template <int VW>
    static NS_INLINE typename kern::Vec<VW>::type gateStep(const typename kern::Vec<VW>::type (&rs)[3],
                                                            typename kern::Vec<VW>::type xn,
                                                            typename kern::Vec<VW>::type h) {
        using v = typename kern::Vec<VW>::type;
        const v tz = kern::vtanhLat<VW>(rs[0]);
        const v tr = kern::vtanhLat<VW>(rs[1]);
        const v n = kern::vtanhLat<VW>(kern::vfma<VW>(tr, rs[2], xn + rs[2]));
        const v zh = kern::vfma<VW>(tz, 0.5f, 0.5f) * h;
        return kern::vfma<VW>(kern::vfma<VW>(tz, -0.5f, 0.5f), n, zh);
    }

    // HF > 0: hidden size fixed at compile time (a multiple of 8); HF == 0: any size.
    // In1: one input channel, whose projection W x + b is formed inside the step.
    template <int HF, bool In1>
    void runImpl(const float* NS_RESTRICT X, float* Y, int N) noexcept {
        const int H = HF > 0 ? HF : H_;
        constexpr int VW = rnn::stepWidth<HF>();
        float* NS_RESTRICT rec = rec_.data();  // the generic path's recurrent scratch
        float* NS_RESTRICT h = h_.data();
        if constexpr (HF > 0 && HF == VW) {
            // One vector holds the whole hidden state: h lives in a register for the block.
            using V = kern::Vec<VW>;
            using v = typename V::type;
            v hv = V::load(h);
            const float* NS_RESTRICT U = U_.data();
            const v bz = V::load(bRec_.data()), br = V::load(bRec_.data() + HF), bn = V::load(bRec_.data() + 2 * HF);
            for (int t = 0; t < N; ++t) {
                const float* NS_RESTRICT pre = pre_.data() + (size_t)t * 3 * HF;
                v acc[4][3];
                // The input projection joins the z and r sums at the start, off the h chain.
                const v xn = rnn::inputRows<VW, In1>(Wx_.data(), bIn_.data(), pre, X[t], 2 * HF);
                acc[0][0] = rnn::inputRows<VW, In1>(Wx_.data(), bIn_.data(), pre, X[t], 0) + bz;
                acc[0][1] = rnn::inputRows<VW, In1>(Wx_.data(), bIn_.data(), pre, X[t], HF) + br;
                acc[0][2] = bn;
#pragma GCC unroll 3
                for (int gate = 0; gate < 3; ++gate) acc[1][gate] = acc[2][gate] = acc[3][gate] = V::splat(0.0f);
                rnn::matvecReg<VW, 3>(acc, U, hv, std::make_index_sequence<HF>{});
                v rs[3];
#pragma GCC unroll 3
                for (int gate = 0; gate < 3; ++gate) rs[gate] = (acc[0][gate] + acc[1][gate]) + (acc[2][gate] + acc[3][gate]);
                hv = gateStep<VW>(rs, xn, hv);
                V::store(Y + (size_t)t * HF, hv);
            }
            V::store(h, hv);
            return;
        }
        for (int t = 0; t < N; ++t) {
            float* NS_RESTRICT pre = pre_.data() + (size_t)t * 3 * H;
            float* NS_RESTRICT y = Y + (size_t)t * H;
            if constexpr (HF > 0) {
                // Fixed size: the whole step stays in vector registers.
                using V = kern::Vec<VW>;
                using v = typename V::type;
                constexpr int NH = HF / VW;
                v acc[4][3][NH];  // [chain][gate][vector]
#pragma GCC unroll 4
                for (int gate = 0; gate < 3; ++gate)
#pragma GCC unroll 8
                    for (int q = 0; q < NH; ++q) {
                        acc[0][gate][q] = V::load(bRec_.data() + gate * HF + q * VW);
                        if (gate < 2) acc[0][gate][q] += rnn::inputRows<VW, In1>(Wx_.data(), bIn_.data(), pre, X[t], gate * HF + q * VW);
                        acc[1][gate][q] = acc[2][gate][q] = acc[3][gate][q] = V::splat(0.0f);
                    }
                const float* NS_RESTRICT U = U_.data();
                static_assert(HF % 4 == 0, "fixed sizes are multiples of 8");
                for (int k = 0; k < HF; k += 4) {
                    const float* u = U + (size_t)k * 3 * HF;
#pragma GCC unroll 4
                    for (int gate = 0; gate < 3; ++gate)
#pragma GCC unroll 8
                        for (int q = 0; q < NH; ++q) {
                            const int o = gate * HF + q * VW;
                            // Four chains when the accumulators fit the register file, else two.
                            constexpr int CH = 3 * NH * 4 <= 24 ? 4 : 2;
                            acc[0][gate][q] = kern::vfma<VW>(V::load(u + o), h[k], acc[0][gate][q]);
                            acc[1 % CH][gate][q] = kern::vfma<VW>(V::load(u + 3 * HF + o), h[k + 1], acc[1 % CH][gate][q]);
                            acc[2 % CH][gate][q] = kern::vfma<VW>(V::load(u + 2 * 3 * HF + o), h[k + 2], acc[2 % CH][gate][q]);
                            acc[3 % CH][gate][q] = kern::vfma<VW>(V::load(u + 3 * 3 * HF + o), h[k + 3], acc[3 % CH][gate][q]);
                        }
                }
#pragma GCC unroll 8
                for (int q = 0; q < NH; ++q) {
                    v rs[3];
#pragma GCC unroll 3
                    for (int gate = 0; gate < 3; ++gate)
                        rs[gate] = (acc[0][gate][q] + acc[1][gate][q]) + (acc[2][gate][q] + acc[3][gate][q]);
                    const v hn = gateStep<VW>(rs, rnn::inputRows<VW, In1>(Wx_.data(), bIn_.data(), pre, X[t], 2 * HF + q * VW),
                                               V::load(h + q * VW));
                    V::store(h + q * VW, hn);
                    V::store(y + q * VW, hn);
                }
            } else {
                for (int i = 0; i < 3 * H; ++i) rec[i] = bRec_[i];
                rnn::matvecAcc<0>(U_.data(), h, rec, 3 * H, H, scratch_.data());
                for (int i = 0; i < 2 * H; ++i) pre[i] += rec[i];
                tanhDyn(pre, 2 * H);
                float* NS_RESTRICT n = pre + 2 * H;
                for (int i = 0; i < H; ++i) n[i] = kern::sfma(pre[H + i], rec[2 * H + i], n[i] + rec[2 * H + i]);
                tanhDyn(n, H);
                for (int i = 0; i < H; ++i) {
                    const float z = 0.5f + 0.5f * pre[i];
                    const float val = kern::sfma(0.5f - 0.5f * pre[i], n[i], z * h[i]);
                    h[i] = val;
                    y[i] = val;
                }
            }
        }
    }

    int H_;
    Buffer Wx_, U_, bIn_, bRec_;
    Buffer h_, pre_, rec_, scratch_;
    long long stored_;
    kern::Product prod_;
    void (GRU::*run_)(const float*, float*, int) noexcept;
    void (GRU::*run1_)(const float*, float*, int) noexcept = nullptr;  // one-input fixed-size path, if any
};

}  // namespace nscore
