// Run-time model interface shared by every architecture.
//
// Real-time contract:
//   prepare(sampleRate, maxBlockSize)  the only call that allocates
//   process(inputs, outputs, n)        never allocates, locks, throws or does I/O,
//                                      for any n (split internally into maxBlockSize chunks)
//   reset()                            back to the initial state, no allocation
#pragma once

#include <algorithm>
#include <cstring>
#include <string>

#include "../common.h"

namespace nscore {

struct ModelInfo {
    std::string architecture;  // "WaveNet", "LSTM", "Linear", "RTNeural"
    std::string format;        // "nam" or "rtneural"
    std::string version;       // file format version when the file states one
    double sampleRate = 48000.0;
    bool sampleRateKnown = false;
    int numInputs = 1;   // 1 = audio only; extra inputs are conditioning / knob values
    int numOutputs = 1;
    long long numWeights = 0;
    long long macsPerSample = 0;
    int receptiveField = 1;  // samples, or -1 for recurrent models (every model is causal: no latency)
};

class Model {
public:
    virtual ~Model() = default;

    const ModelInfo& info() const { return info_; }
    int numInputs() const { return info_.numInputs; }
    int numOutputs() const { return info_.numOutputs; }
    int maxBlockSize() const { return maxBlock_; }
    bool prepared() const { return prepared_; }

    // The models are arithmetic on samples: the rate is the caller's (it resamples when it differs
    // from info().sampleRate); it is accepted for the interface's sake.
    void prepare(double /*sampleRate*/, int maxBlockSize) {
        if (maxBlockSize < 1 || maxBlockSize > Limits::maxBlockSize)
            throw ModelError(ErrorCode::Argument, "prepare: maxBlockSize must be in 1.." +
                                                      std::to_string(Limits::maxBlockSize) + ", got " +
                                                      std::to_string(maxBlockSize));
        prepared_ = false;
        maxBlock_ = maxBlockSize;
        xin_.assign((size_t)info_.numInputs * maxBlock_, 0.0f);
        yout_.assign((size_t)info_.numOutputs * maxBlock_, 0.0f);
        prepareImpl(maxBlock_);
        prepared_ = true;
        reset();
    }

    // inputs: numInputs() planar channels of n samples (channel 0 is audio);
    // outputs: numOutputs() planar channels. Outputs are zero if not prepared.
    void process(const float* const* inputs, float* const* outputs, int n) noexcept {
        if (n <= 0) return;
        if (!prepared_) {
            for (int o = 0; o < info_.numOutputs; ++o) std::memset(outputs[o], 0, sizeof(float) * (size_t)n);
            return;
        }
        const int ni = info_.numInputs, no = info_.numOutputs;
        for (int off = 0; off < n; off += maxBlock_) {
            const int N = std::min(maxBlock_, n - off);
            const float* X;
            if (ni == 1) {
                X = inputs[0] + off;
            } else {
                for (int t = 0; t < N; ++t)
                    for (int i = 0; i < ni; ++i) xin_[(size_t)t * ni + i] = inputs[i][off + t];
                X = xin_.data();
            }
            float* Y = no == 1 ? outputs[0] + off : yout_.data();
            processBlock(X, Y, N);
            if (no != 1)
                for (int t = 0; t < N; ++t)
                    for (int o = 0; o < no; ++o) outputs[o][off + t] = yout_[(size_t)t * no + o];
        }
    }

    // Mono convenience: requires numInputs() == 1 and numOutputs() == 1.
    void process(const float* in, float* out, int n) noexcept { process(&in, &out, n); }

    virtual void reset() noexcept = 0;
    // Floats of state and scratch allocated by prepare() (for diagnostics).
    virtual size_t stateFloats() const { return xin_.size() + yout_.size(); }

protected:
    virtual void prepareImpl(int maxBlock) = 0;
    // X: numInputs x N, Y: numOutputs x N (column-major), N <= maxBlock.
    virtual void processBlock(const float* X, float* Y, int N) noexcept = 0;

    ModelInfo info_;

private:
    bool prepared_ = false;
    int maxBlock_ = 0;
    Buffer xin_, yout_;
};

}  // namespace nscore
