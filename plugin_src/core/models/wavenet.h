// NAM WaveNet (format 0.5): layer arrays of gated or plain dilated residual
// layers with a summed head, processed a block at a time. Each dilated
// convolution of a block is one tapped matrix product over a linear history
// buffer (see layers/history.h), so the work per block is a handful of
// register-blocked products instead of per-sample matrix-vector calls.
#pragma once

#include <algorithm>
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
            A.pC.plan(C);
            A.pHead.plan(c.headSize);
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
    }

    // History before the first sample is that of an all-zero input (as the NAM
    // trainer pads the input, and as NAM's C++ core prewarms with silence). Under
    // a constant input every layer's input is constant, so the state is computed
    // exactly, one column per layer, without running receptive-field samples.
    void reset() noexcept override {
        if (arrays_.empty() || arrays_.front().zTop.empty()) return;  // not prepared
        const float* arrayIn = nullptr;  // nullptr = the zero condition
        for (size_t a = 0; a < cfg_.size(); ++a) {
            const auto& c = cfg_[a];
            const auto& W = w_[a];
            auto& A = arrays_[a];
            const int C = c.channels, G = c.gated ? 2 : 1, GC = G * C, K = c.kernelSize;
            const int inRows = a == 0 ? c.conditionSize : cfg_[a - 1].channels;
            // Scratch: v (C), z (G C), vNext (C) in the out buffer (>= C * maxBlock floats).
            float* v = A.out.data();
            float* z = v + C;
            float* vn = z + GC;
            for (int i = 0; i < C; ++i) {
                float s = 0.0f;
                if (arrayIn)
                    for (int j = 0; j < inRows; ++j) s += W.rechannel[(size_t)j * C + i] * arrayIn[j];
                v[i] = s;
            }
            for (size_t l = 0; l < A.layers.size(); ++l) {
                const auto& LW = W.layers[l];
                A.layers[l].input.reset(v);
                for (int i = 0; i < GC; ++i) {
                    float s = LW.convB[i];
                    for (int k = 0; k < K; ++k)
                        for (int j = 0; j < C; ++j) s += LW.conv[(size_t)k * GC * C + (size_t)j * GC + i] * v[j];
                    z[i] = s;
                }
                c.activation.apply(z, C, 1);
                if (c.gated) {
                    sigmoidDyn(z + C, C);
                    for (int i = 0; i < C; ++i) z[i] *= z[C + i];
                }
                for (int i = 0; i < C; ++i) {
                    float s = v[i] + LW.b1x1[i];
                    for (int j = 0; j < C; ++j) s += LW.w1x1[(size_t)j * C + i] * z[j];
                    vn[i] = s;
                }
                std::memcpy(v, vn, sizeof(float) * C);
            }
            // The next array's rechannel sees this constant; keep it at the front of A.out.
            arrayIn = v;
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
            const size_t CN = (size_t)c.channels * maxBlock;
            A.zTop.assign(CN, 0.0f);
            A.zBot.assign(c.gated ? CN : 0, 0.0f);
            A.headAcc.assign(a == 0 ? CN : 0, 0.0f);
            A.out.assign(std::max(CN, (size_t)c.channels * 4), 0.0f);
            A.headOut.assign((size_t)c.headSize * maxBlock, 0.0f);
            for (auto& L : A.layers) L.input.prepare(c.channels, L.hist, maxBlock);
        }
    }

    void processBlock(const float* X, float* Y, int N) noexcept override {
        const float* cond = X;
        const int nc = cfg_.front().conditionSize;
        const float* arrayIn = X;
        for (size_t a = 0; a < cfg_.size(); ++a) {
            const auto& c = cfg_[a];
            const auto& W = w_[a];
            auto& A = arrays_[a];
            const int C = c.channels, G = c.gated ? 2 : 1;
            const int inRows = a == 0 ? nc : cfg_[a - 1].channels;

            // Head accumulator: zeros for the first array, else the previous array's head output.
            float* headAcc = a == 0 ? A.headAcc.data() : arrays_[a - 1].headOut.data();
            if (a == 0) std::memset(headAcc, 0, sizeof(float) * (size_t)C * N);

            // Rechannel straight into the first layer's history buffer.
            float* layerIn = A.layers.front().input.beginBlock(N);
            {
                kern::TapProduct p;
                p.W = W.rechannel.data();
                p.ldw = C;
                p.K = inRows;
                p.X = arrayIn;
                p.ldx = inRows;
                A.pC.run(p, N, nullptr, nullptr, 0, layerIn, C);
            }

            for (size_t l = 0; l < A.layers.size(); ++l) {
                auto& L = A.layers[l];
                const auto& LW = W.layers[l];
                const bool last = l + 1 == A.layers.size();
                float* next = last ? A.out.data() : A.layers[l + 1].input.beginBlock(N);

                // z = conv(x) + b + mixin(cond), rows [0, C) -> zTop, [C, 2C) -> zBot when gated.
                kern::TapProduct p;
                p.ldw = G * C;
                p.tapStride = G * C * C;
                p.K = C;
                p.taps = c.kernelSize;
                p.xoff = L.xoff.data();
                p.X = layerIn;
                p.ldx = C;
                p.ldw2 = G * C;
                p.K2 = nc;
                p.X2 = cond;
                p.ldx2 = nc;
                for (int half = 0; half < G; ++half) {
                    float* z = half == 0 ? A.zTop.data() : A.zBot.data();
                    p.W = LW.conv.data() + (size_t)half * C;
                    p.W2 = LW.mix.data() + (size_t)half * C;
                    A.pC.run(p, N, LW.convB.data() + (size_t)half * C, nullptr, 0, z, C);
                }
                c.activation.apply(A.zTop.data(), C, N);
                const size_t CN = (size_t)C * N;
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
                q.ldw = C;
                q.K = C;
                q.X = zt;
                q.ldx = C;
                A.pC.run(q, N, LW.b1x1.data(), layerIn, C, next, C);

                L.input.advance(N);
                layerIn = next;
            }

            // Head rechannel.
            {
                kern::TapProduct p;
                p.W = W.head.data();
                p.ldw = c.headSize;
                p.K = C;
                p.X = headAcc;
                p.ldx = C;
                A.pHead.run(p, N, W.headB.empty() ? nullptr : W.headB.data(), nullptr, 0, A.headOut.data(),
                            c.headSize);
            }
            arrayIn = A.out.data();
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

    std::vector<WaveNetArrayConfig> cfg_;
    std::vector<WaveNetArrayWeights> w_;
    std::vector<ArrayState> arrays_;
    float headScale_;
};

}  // namespace nscore
