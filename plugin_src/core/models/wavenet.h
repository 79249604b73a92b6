// NAM WaveNet (format 0.5): layer arrays of gated or plain dilated residual
// layers with a summed head, processed a block at a time. Each dilated
// convolution of a block is one tapped matrix product over a linear history
// buffer (see layers/history.h), so the work per block is a handful of
// register-blocked products instead of per-sample matrix-vector calls.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "../activations.h"
#include "../kernels.h"
#include "../layers/history.h"
#include "model.h"

namespace nscore {

struct WaveNetArrayConfig {
    int inputSize = 1, conditionSize = 1, headSize = 1, channels = 1, kernelSize = 1;
    std::vector<int> dilations;
    Activation activation{Act::Tanh};
    bool gated = false, headBias = false;
};

struct WaveNetLayerWeights {
    Buffer conv;    // K taps, each (G C) x C column-major
    Buffer convB;   // G C
    Buffer mix;     // (G C) x condition, column-major
    Buffer w1x1;    // C x C column-major
    Buffer b1x1;    // C
};

struct WaveNetArrayWeights {
    Buffer rechannel;  // C x input, column-major
    std::vector<WaveNetLayerWeights> layers;
    Buffer head;   // headSize x C, column-major
    Buffer headB;  // headSize or empty
};

class WaveNet : public Model {
public:
    WaveNet(std::vector<WaveNetArrayConfig> cfg, std::vector<WaveNetArrayWeights> w, float headScale, ModelInfo info)
        : cfg_(std::move(cfg)), w_(std::move(w)), headScale_(headScale) {
        info_ = info;
        info_.architecture = "WaveNet";
        info_.numInputs = cfg_.front().conditionSize;
        info_.numOutputs = cfg_.back().headSize;
        long long weights = 1, macs = 0;
        int rf = 1;
        arrays_.resize(cfg_.size());
        for (size_t a = 0; a < cfg_.size(); ++a) {
            const auto& c = cfg_[a];
            const int C = c.channels, G = c.gated ? 2 : 1;
            auto& A = arrays_[a];
            A.pC.plan(padded(C));
            A.pHead.plan(a + 1 == cfg_.size() ? c.headSize : padded(c.headSize));
            weights += (long long)C * c.inputSize + (long long)c.headSize * C + (c.headBias ? c.headSize : 0);
            macs += (long long)C * c.inputSize + (long long)c.headSize * C;
            A.layers.resize(c.dilations.size());
            for (size_t l = 0; l < c.dilations.size(); ++l) {
                const int d = c.dilations[l];
                auto& L = A.layers[l];
                for (int tap = 0; tap < c.kernelSize; ++tap) L.xoff.push_back(-d * (c.kernelSize - 1 - tap));
                L.hist = d * (c.kernelSize - 1);
                rf += L.hist;
                weights += (long long)c.kernelSize * C * G * C + G * C + (long long)G * C * c.conditionSize + C * C + C;
                macs += (long long)c.kernelSize * C * G * C + (long long)G * C * c.conditionSize + (long long)C * C;
            }
        }
        info_.numWeights = weights;
        info_.macsPerSample = macs;
        info_.receptiveField = rf;
        padWeights();
    }

    // Channel counts are padded internally (to 2, 4 or a multiple of 8) so every
    // product runs on full vectors; padded rows have zero weights and bias and
    // never feed a real row (inner dimensions always loop over the real channels).
    static int padded(int c) { return c <= 2 ? 2 : (c <= 4 ? 4 : (c + 7) / 8 * 8); }

    // History before the first sample is that of an all-zero input (as the NAM
    // trainer pads the input, and as NAM's C++ core prewarms with silence). Under
    // a constant input every layer's input is constant, so the state is computed
    // exactly, one column per layer, without running receptive-field samples.
    void reset() noexcept override {
        if (arrays_.empty() || arrays_.front().zTop.empty()) return;  // not prepared
        // Computed in double precision: the residual stream of a trained model can
        // be large, and a float steady state is off by enough rounding to show
        // (~5e-6) in the first output samples.
        double* v = resetScratch_.data();
        const size_t stride = resetScratch_.size() / 4;
        double* z = v + stride;
        double* vn = z + stride;
        double* in = vn + stride;
        bool haveIn = false;  // false = the zero condition
        int inRows = 0;
        for (size_t a = 0; a < cfg_.size(); ++a) {
            const auto& c = cfg_[a];
            const auto& W = w_[a];
            auto& A = arrays_[a];
            const int C = c.channels, G = c.gated ? 2 : 1, GC = G * C, K = c.kernelSize;
            const int Cp = padded(C);
            for (int i = 0; i < C; ++i) {
                double s = 0.0;
                if (haveIn)
                    for (int j = 0; j < inRows; ++j) s += (double)W.rechannel[(size_t)j * C + i] * in[j];
                v[i] = s;
            }
            float* col = A.out.data();  // the column written into each layer's history (Cp floats)
            for (size_t l = 0; l < A.layers.size(); ++l) {
                const auto& LW = W.layers[l];
                for (int i = 0; i < Cp; ++i) col[i] = i < C ? (float)v[i] : 0.0f;
                A.layers[l].input.reset(col);
                for (int i = 0; i < GC; ++i) {
                    double s = LW.convB[i];
                    for (int k = 0; k < K; ++k)
                        for (int j = 0; j < C; ++j) s += (double)LW.conv[(size_t)k * GC * C + (size_t)j * GC + i] * v[j];
                    z[i] = s;
                }
                for (int i = 0; i < C; ++i) z[i] = activate(c.activation, z[i]);
                if (c.gated)
                    for (int i = 0; i < C; ++i) z[i] *= 1.0 / (1.0 + std::exp(-z[C + i]));
                for (int i = 0; i < C; ++i) {
                    double s = v[i] + LW.b1x1[i];
                    for (int j = 0; j < C; ++j) s += (double)LW.w1x1[(size_t)j * C + i] * z[j];
                    vn[i] = s;
                }
                std::copy(vn, vn + C, v);
            }
            // The next array's rechannel sees this constant.
            std::copy(v, v + C, in);
            inRows = C;
            haveIn = true;
        }
    }

    static double activate(const Activation& act, double x) {
        switch (act.kind) {
            case Act::Tanh: return std::tanh(x);
            case Act::Sigmoid: return 1.0 / (1.0 + std::exp(-x));
            case Act::ReLU: return x > 0 ? x : 0.0;
            case Act::LeakyReLU: return x >= 0 ? x : act.alpha * x;
            case Act::Hardtanh: return x < -1 ? -1.0 : (x > 1 ? 1.0 : x);
            case Act::ELU: return x > 0 ? x : act.alpha * (std::exp(x) - 1.0);
            default: return x;
        }
    }
    size_t stateFloats() const override {
        size_t n = Model::stateFloats();
        for (auto& A : arrays_) {
            n += A.zTop.size() + A.zBot.size() + A.headAcc.size() + A.out.size() + A.headOut.size();
            for (auto& L : A.layers) n += L.input.floats();
        }
        return n;
    }

protected:
    void prepareImpl(int maxBlock) override {
        for (size_t a = 0; a < cfg_.size(); ++a) {
            const auto& c = cfg_[a];
            auto& A = arrays_[a];
            const int Cp = padded(c.channels);
            const size_t CN = (size_t)Cp * maxBlock;
            const bool last = a + 1 == cfg_.size();
            A.zTop.assign(CN, 0.0f);
            A.zBot.assign(c.gated ? CN : 0, 0.0f);
            A.headAcc.assign(a == 0 ? CN : 0, 0.0f);
            A.out.assign(std::max(CN, (size_t)Cp * 4), 0.0f);
            A.headOut.assign((size_t)(last ? c.headSize : padded(c.headSize)) * maxBlock, 0.0f);
            for (auto& L : A.layers) L.input.prepare(Cp, L.hist, maxBlock);
        }
        int maxC = 1;
        for (const auto& c : cfg_) maxC = std::max(maxC, c.channels);
        resetScratch_.assign((size_t)4 * 2 * maxC, 0.0);
    }

    void processBlock(const float* X, float* Y, int N) noexcept override {
        const float* cond = X;
        const int nc = cfg_.front().conditionSize;
        const float* arrayIn = X;
        int inLd = nc;
        for (size_t a = 0; a < cfg_.size(); ++a) {
            const auto& c = cfg_[a];
            const auto& W = wp_[a];
            auto& A = arrays_[a];
            const int C = c.channels, Cp = padded(C), G = c.gated ? 2 : 1;
            const int inRows = a == 0 ? nc : cfg_[a - 1].channels;
            const int Hp = a + 1 == cfg_.size() ? c.headSize : padded(c.headSize);

            // Head accumulator: zeros for the first array, else the previous array's head output.
            float* headAcc = a == 0 ? A.headAcc.data() : arrays_[a - 1].headOut.data();
            if (a == 0) std::memset(headAcc, 0, sizeof(float) * (size_t)Cp * N);

            // Rechannel straight into the first layer's history buffer.
            float* layerIn = A.layers.front().input.beginBlock(N);
            {
                kern::TapProduct p;
                p.W = W.rechannel.data();
                p.ldw = Cp;
                p.K = inRows;
                p.X = arrayIn;
                p.ldx = inLd;
                A.pC.run(p, N, nullptr, nullptr, 0, layerIn, Cp);
            }

            const size_t CN = (size_t)Cp * N;
            for (size_t l = 0; l < A.layers.size(); ++l) {
                auto& L = A.layers[l];
                const auto& LW = W.layers[l];
                const bool last = l + 1 == A.layers.size();
                float* next = last ? A.out.data() : A.layers[l + 1].input.beginBlock(N);

                // z = conv(x) + b + mixin(cond): rows [0, C) -> zTop, [Cp, Cp + C) -> zBot when gated.
                kern::TapProduct p;
                p.ldw = G * Cp;
                p.tapStride = G * Cp * C;
                p.K = C;
                p.taps = c.kernelSize;
                p.xoff = L.xoff.data();
                p.X = layerIn;
                p.ldx = Cp;
                p.ldw2 = G * Cp;
                p.K2 = nc;
                p.X2 = cond;
                p.ldx2 = nc;
                for (int half = 0; half < G; ++half) {
                    float* z = half == 0 ? A.zTop.data() : A.zBot.data();
                    p.W = LW.conv.data() + (size_t)half * Cp;
                    p.W2 = LW.mix.data() + (size_t)half * Cp;
                    A.pC.run(p, N, LW.convB.data() + (size_t)half * Cp, nullptr, 0, z, Cp);
                }
                c.activation.apply(A.zTop.data(), Cp, N);
                float* zt = A.zTop.data();
                if (c.gated) {
                    sigmoidDyn(A.zBot.data(), (int)CN);
                    const float* zb = A.zBot.data();
                    for (size_t i = 0; i < CN; ++i) zt[i] *= zb[i];
                }
                for (size_t i = 0; i < CN; ++i) headAcc[i] += zt[i];

                // Residual: next = x + W1 z + b1.
                kern::TapProduct q;
                q.W = LW.w1x1.data();
                q.ldw = Cp;
                q.K = C;
                q.X = zt;
                q.ldx = Cp;
                A.pC.run(q, N, LW.b1x1.data(), layerIn, Cp, next, Cp);

                L.input.advance(N);
                layerIn = next;
            }

            // Head rechannel.
            {
                kern::TapProduct p;
                p.W = W.head.data();
                p.ldw = Hp;
                p.K = C;
                p.X = headAcc;
                p.ldx = Cp;
                A.pHead.run(p, N, W.headB.empty() ? nullptr : W.headB.data(), nullptr, 0, A.headOut.data(), Hp);
            }
            arrayIn = A.out.data();
            inLd = Cp;
        }
        const auto& lastA = arrays_.back();
        const size_t total = (size_t)cfg_.back().headSize * N;
        for (size_t i = 0; i < total; ++i) Y[i] = headScale_ * lastA.headOut[i];
    }

private:
    struct LayerState {
        std::vector<int> xoff;
        int hist = 0;
        History input;  // this layer's input with its dilated history
    };
    struct ArrayState {
        std::vector<LayerState> layers;
        Buffer zTop, zBot, headAcc, out, headOut;
        kern::Product pC, pHead;
    };

    void padWeights() {
        wp_.resize(cfg_.size());
        for (size_t a = 0; a < cfg_.size(); ++a) {
            const auto& c = cfg_[a];
            const auto& W = w_[a];
            auto& P = wp_[a];
            const int C = c.channels, Cp = padded(C), G = c.gated ? 2 : 1, K = c.kernelSize, nc = c.conditionSize;
            const int inRows = a == 0 ? nc : cfg_[a - 1].channels;
            const bool last = a + 1 == cfg_.size();
            const int Hs = c.headSize, Hp = last ? Hs : padded(Hs);
            // Row r of a (G C)-row matrix goes to row (r / C) * Cp + r % C of the padded one.
            auto pr = [&](int r) { return (r / C) * Cp + r % C; };
            P.rechannel.assign((size_t)Cp * inRows, 0.0f);
            for (int j = 0; j < inRows; ++j)
                for (int i = 0; i < C; ++i) P.rechannel[(size_t)j * Cp + i] = W.rechannel[(size_t)j * C + i];
            P.layers.resize(W.layers.size());
            for (size_t l = 0; l < W.layers.size(); ++l) {
                const auto& L = W.layers[l];
                auto& Q = P.layers[l];
                Q.conv.assign((size_t)K * G * Cp * C, 0.0f);
                for (int k = 0; k < K; ++k)
                    for (int j = 0; j < C; ++j)
                        for (int r = 0; r < G * C; ++r)
                            Q.conv[(size_t)k * G * Cp * C + (size_t)j * G * Cp + pr(r)] =
                                L.conv[(size_t)k * G * C * C + (size_t)j * G * C + r];
                Q.convB.assign((size_t)G * Cp, 0.0f);
                for (int r = 0; r < G * C; ++r) Q.convB[pr(r)] = L.convB[r];
                Q.mix.assign((size_t)G * Cp * nc, 0.0f);
                for (int j = 0; j < nc; ++j)
                    for (int r = 0; r < G * C; ++r) Q.mix[(size_t)j * G * Cp + pr(r)] = L.mix[(size_t)j * G * C + r];
                Q.w1x1.assign((size_t)Cp * C, 0.0f);
                for (int j = 0; j < C; ++j)
                    for (int i = 0; i < C; ++i) Q.w1x1[(size_t)j * Cp + i] = L.w1x1[(size_t)j * C + i];
                Q.b1x1.assign(Cp, 0.0f);
                for (int i = 0; i < C; ++i) Q.b1x1[i] = L.b1x1[i];
            }
            P.head.assign((size_t)Hp * C, 0.0f);
            for (int j = 0; j < C; ++j)
                for (int i = 0; i < Hs; ++i) P.head[(size_t)j * Hp + i] = W.head[(size_t)j * Hs + i];
            if (!W.headB.empty()) {
                P.headB.assign(Hp, 0.0f);
                for (int i = 0; i < Hs; ++i) P.headB[i] = W.headB[i];
            }
        }
    }

    std::vector<WaveNetArrayConfig> cfg_;
    std::vector<WaveNetArrayWeights> w_;   // as in the file (used by reset)
    std::vector<WaveNetArrayWeights> wp_;  // padded layout (used by process)
    std::vector<ArrayState> arrays_;
    float headScale_;
    std::vector<double> resetScratch_;  // v, z (2C), vNext, array input: sized in prepare
};

}  // namespace nscore
