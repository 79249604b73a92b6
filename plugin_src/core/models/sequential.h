// A stack of run-time layers (RTNeural-style models, NAM LSTM and Linear).
#pragma once

#include <memory>
#include <vector>

#include "../layers/layer.h"
#include "model.h"

namespace nscore {

class Sequential : public Model {
public:
    Sequential(std::vector<std::unique_ptr<Layer>> layers, ModelInfo info) : layers_(std::move(layers)) {
        info_ = info;
        info_.numInputs = layers_.front()->inSize();
        info_.numOutputs = layers_.back()->outSize();
        long long w = 0, macs = 0;
        int rf = 1;
        bool rec = false;
        for (auto& l : layers_) {
            w += l->numWeights();
            macs += l->macsPerSample();
            rf += l->receptiveField() - 1;
            rec = rec || l->recurrent();
        }
        info_.numWeights = w;
        info_.macsPerSample = macs;
        info_.receptiveField = rec ? -1 : rf;
    }
    const std::vector<std::unique_ptr<Layer>>& layers() const { return layers_; }

    void reset() noexcept override {
        for (auto& l : layers_) l->reset();
    }
    size_t stateFloats() const override {
        size_t n = Model::stateFloats() + a_.size() + b_.size();
        for (auto& l : layers_) n += l->stateFloats();
        return n;
    }

protected:
    void prepareImpl(int maxBlock) override {
        int width = 1;
        for (auto& l : layers_) width = std::max(width, l->outSize());
        a_.assign((size_t)width * maxBlock, 0.0f);
        b_.assign((size_t)width * maxBlock, 0.0f);
        for (auto& l : layers_) l->prepare(maxBlock);
    }
    void processBlock(const float* X, float* Y, int N) noexcept override {
        const float* cur = X;
        const size_t last = layers_.size() - 1;
        for (size_t i = 0; i < layers_.size(); ++i) {
            float* dst = i == last ? Y : (i % 2 == 0 ? a_.data() : b_.data());
            layers_[i]->forward(cur, dst, N);
            cur = dst;
        }
    }

private:
    std::vector<std::unique_ptr<Layer>> layers_;
    Buffer a_, b_;
};

}  // namespace nscore
