// The effect's signal chain, the same code in the plugin (plugin_src/effect, a JUCE shell) and in
// Python (bridge ns_effect_*). Per channel (a mono model runs once per channel):
//
//   in (non-finite -> 0) -> * input gain -> model (+ control inputs; at the model's rate through a
//   RateBridge when the host runs at another) -> DC blocker -> * output gain, mixed with the dry
//   input delayed by the chain's latency; a non-finite model output silences the block and resets
//   the model. Bypass passes the (sanitised) input delayed by the same latency.
//
// Two parts, so the plugin can swap models without touching the audio thread's state:
//   ModelSlot  one model file loaded once per channel and prepared for a host rate (allocates;
//              built off the audio thread, handed over by pointer).
//   Chain      gains, mix, controls (smoothed), DC blockers, dry delay; runs a ModelSlot.
// Chain::process / processBypassed never allocate, lock, throw or do I/O.
#pragma once

#include <array>
#include <atomic>
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "../dsp/dc_blocker.h"
#include "../dsp/linear_smoother.h"
#include "../loaders/load_model.h"
#include "params.h"
#if NEURALSYNTH_WITH_SOXR
#include "../dsp/rate_bridge.h"
#endif

namespace nscore {
namespace effect {

// The dry path is delayed by the model slot's latency (resampling) so the mix stays aligned.
constexpr int kMaxLatency = 16384;

class ModelSlot {
public:
    // Loads `text` (a .nam / RTNeural JSON file's contents; `name` names it in errors) once per
    // channel. Throws ModelError when the file does not load or does not fit an effect.
    ModelSlot(const std::string& text, const std::string& name) : name_(name) {
        for (auto& m : models_) m = loadModelFromText(text, name);
        info_ = models_[0]->info();
        if (info_.numOutputs != 1)
            throw ModelError(ErrorCode::Unsupported,
                             name + ": the model has " + std::to_string(info_.numOutputs) +
                                 " outputs; an effect plugin needs a model with exactly one audio output");
        numControls_ = info_.numInputs - 1;
        if (numControls_ > kMaxControls)
            throw ModelError(ErrorCode::Unsupported, name + ": the model has " + std::to_string(numControls_) +
                                                         " control inputs; at most " +
                                                         std::to_string(kMaxControls) + " are supported");
    }
    ModelSlot(const ModelSlot&) = delete;
    ModelSlot& operator=(const ModelSlot&) = delete;

    // Allocates: the models at their own rate and, when the host rate differs, the resamplers.
    // Throws ModelError.
    void prepare(double hostRate, int maxBlock) {
        const double modelRate = info_.sampleRate;
        resampling_ = std::fabs(hostRate - modelRate) > 1e-6;
        const int modelBlock = resampling_ ? (int)std::ceil(maxBlock * modelRate / hostRate) + 256 : maxBlock;
        for (auto& m : models_) m->prepare(modelRate, modelBlock);
        modelControls_.assign((size_t)kMaxControls, std::vector<float>((size_t)modelBlock, 0.0f));
        latency_ = 0;
        if (!resampling_) return;
#if NEURALSYNTH_WITH_SOXR
        std::string error;
        for (auto& b : bridges_)
            if (!b.prepare(hostRate, modelRate, maxBlock, error)) throw ModelError(ErrorCode::Internal, error);
        latency_ = bridges_[0].latency();
        if (latency_ > kMaxLatency)
            throw ModelError(ErrorCode::Limit, "resampling latency " + std::to_string(latency_) +
                                                   " exceeds the supported maximum");
#else
        throw ModelError(ErrorCode::Unsupported,
                         name_ + ": the model runs at " + std::to_string(modelRate) + " Hz and the host at " +
                             std::to_string(hostRate) + " Hz; this build has no resampler (libsoxr)");
#endif
    }

    const ModelInfo& info() const { return info_; }
    const std::string& name() const { return name_; }
    int numControls() const { return numControls_; }
    int latency() const { return latency_; }
    bool resampling() const { return resampling_; }

    // Audio thread. io: n host-rate samples of channel c, processed in place; controls:
    // numControls() arrays of n per-sample values.
    void process(int c, float* io, int n, const float* const* controls) noexcept {
        Model& model = *models_[(size_t)c];
        const float* ins[1 + kMaxControls];
        if (!resampling_) {
            ins[0] = io;
            for (int k = 0; k < numControls_; ++k) ins[1 + k] = controls[k];
            float* outs[1] = {io};
            model.process(ins, outs, n);  // in place is safe: inputs are copied per block
            return;
        }
#if NEURALSYNTH_WITH_SOXR
        bridges_[(size_t)c].process(io, io, n, [&](const float* in, float* out, int m) {
            ins[0] = in;
            for (int k = 0; k < numControls_; ++k) {  // controls held at this block's last value
                std::fill(modelControls_[(size_t)k].begin(), modelControls_[(size_t)k].begin() + m,
                          controls[k][n - 1]);
                ins[1 + k] = modelControls_[(size_t)k].data();
            }
            float* outs[1] = {out};
            model.process(ins, outs, m);
        });
#endif
    }

    void resetModels() noexcept {
        for (auto& m : models_) m->reset();
    }

private:
    std::string name_;
    std::array<std::unique_ptr<Model>, kMaxChannels> models_;
#if NEURALSYNTH_WITH_SOXR
    std::array<RateBridge, kMaxChannels> bridges_;
#endif
    std::vector<std::vector<float>> modelControls_;  // control inputs at the model rate
    ModelInfo info_;
    int numControls_ = 0;
    bool resampling_ = false;
    int latency_ = 0;
};

class Chain {
public:
    Chain() {
        for (int i = 0; i < kNumParams; ++i) values_[(size_t)i] = paramSpec(i).def;
    }

    // Real values in the parameter's unit (clamped). Any thread that owns the chain; the new
    // value is ramped towards from the next process call.
    void setParam(int index, float value) noexcept {
        if (index >= 0 && index < kNumParams) values_[(size_t)index] = clampParam(index, value);
    }
    float param(int index) const noexcept {
        return index >= 0 && index < kNumParams ? values_[(size_t)index] : 0.0f;
    }

    // Allocates. Ramps start at the current parameter values; DC blockers and the dry delay empty.
    void prepare(double sampleRate, int maxBlock) {
        sampleRate_ = sampleRate;
        maxBlock_ = std::max(1, maxBlock);
        for (auto& d : dryDelay_) d.assign((size_t)(kMaxLatency + maxBlock_ + 1), 0.0f);
        dryPos_ = 0;
        for (auto& d : dc_) d.prepare(sampleRate);
        inGain_.reset(sampleRate, kSmoothingSeconds);
        outGain_.reset(sampleRate, kSmoothingSeconds);
        mix_.reset(sampleRate, kSmoothingSeconds);
        inGain_.setCurrentAndTarget(dbToGain(values_[kInputGain]));
        outGain_.setCurrentAndTarget(dbToGain(values_[kOutputGain]));
        mix_.setCurrentAndTarget(values_[kMix] * 0.01f);
        for (int i = 0; i < kMaxControls; ++i) {
            controls_[(size_t)i].reset(sampleRate, kSmoothingSeconds);
            controls_[(size_t)i].setCurrentAndTarget(values_[(size_t)(kControl1 + i)]);
        }
        for (auto& b : wet_) b.assign((size_t)maxBlock_, 0.0f);
        for (auto& b : dry_) b.assign((size_t)maxBlock_, 0.0f);
        for (auto& b : controlBuf_) b.assign((size_t)maxBlock_, 0.0f);
    }

    double sampleRate() const { return sampleRate_; }
    int maxBlock() const { return maxBlock_; }

    // A new model took over (or the stream restarts): its state and the DC blockers start fresh.
    void restart(ModelSlot* slot) noexcept {
        if (slot) slot->resetModels();
        for (auto& d : dc_) d.reset();
    }

    // Audio thread. ch: numChannels arrays of n samples, processed in place; channels beyond
    // kMaxChannels are cleared. slot == nullptr: no model (the wet path is silent).
    void process(ModelSlot* slot, float* const* ch, int numChannels, int n) noexcept {
        const int nch = std::min(numChannels, kMaxChannels);
        for (int c = nch; c < numChannels; ++c) std::fill(ch[c], ch[c] + n, 0.0f);
        if (n <= 0) return;
        sanitise(ch, nch, n);  // non-finite input never reaches the model or the dry path
        if (values_[kBypass] > 0.5f) {  // hosts may bypass through our parameter
            delayInPlace(slot, ch, nch, n);
            return;
        }
        inGain_.setTarget(dbToGain(values_[kInputGain]));
        outGain_.setTarget(dbToGain(values_[kOutputGain]));
        mix_.setTarget(values_[kMix] * 0.01f);
        const bool dcOn = values_[kDcBlock] > 0.5f;
        const int numControls = slot ? slot->numControls() : 0;
        for (int i = 0; i < numControls; ++i) controls_[(size_t)i].setTarget(values_[(size_t)(kControl1 + i)]);
        const float* controls[kMaxControls];
        for (int k = 0; k < kMaxControls; ++k) controls[k] = controlBuf_[(size_t)k].data();

        for (int off = 0; off < n; off += maxBlock_) {
            const int len = std::min(maxBlock_, n - off);
            float* dry[kMaxChannels];
            for (int c = 0; c < nch; ++c) {
                dry[c] = dry_[(size_t)c].data();
                std::copy(ch[c] + off, ch[c] + off + len, dry[c]);
            }
            for (int i = 0; i < len; ++i) {  // per-sample smoothed values, identical for every channel
                const float g = inGain_.next();
                for (int c = 0; c < nch; ++c) wet_[(size_t)c][(size_t)i] = dry[c][i] * g;
            }
            for (int k = 0; k < numControls; ++k)
                for (int i = 0; i < len; ++i) controlBuf_[(size_t)k][(size_t)i] = controls_[(size_t)k].next();
            for (int c = 0; c < nch; ++c) {
                float* w = wet_[(size_t)c].data();
                if (slot)
                    slot->process(c, w, len, controls);
                else
                    std::fill(w, w + len, 0.0f);
                if (dcOn) dc_[(size_t)c].process(w, len);
            }
            if (!finite(nch, len)) {  // NaN / Inf never leave the chain
                for (int c = 0; c < nch; ++c) std::fill(wet_[(size_t)c].begin(), wet_[(size_t)c].begin() + len, 0.0f);
                restart(slot);
                nonFiniteReset_.store(true, std::memory_order_relaxed);
            }
            delayInPlace(slot, dry, nch, len);  // the dry path, delayed by the wet path's latency
            for (int i = 0; i < len; ++i) {
                const float go = outGain_.next();
                const float m = mix_.next();
                for (int c = 0; c < nch; ++c)
                    ch[c][off + i] = wet_[(size_t)c][(size_t)i] * go * m + dry[c][i] * (1.0f - m);
            }
        }
    }

    // Audio thread. The host's own bypass: the sanitised input of every channel, delayed by the
    // latency; the model's state is kept.
    void processBypassed(const ModelSlot* slot, float* const* ch, int numChannels, int n) noexcept {
        sanitise(ch, numChannels, n);
        delayInPlace(slot, ch, std::min(numChannels, kMaxChannels), n);
    }

    // True once after a block whose model output was non-finite (the model was reset).
    bool takeNonFiniteReset() noexcept { return nonFiniteReset_.exchange(false, std::memory_order_relaxed); }

    // The model's receptive field plus the DC blocker's settling (to below -120 dB) and the latency.
    double tailSeconds(const ModelSlot* slot) const {
        double seconds = 0.5;
        if (slot) {
            seconds += slot->latency() / sampleRate_;
            if (slot->info().receptiveField > 0) seconds += slot->info().receptiveField / slot->info().sampleRate;
        }
        return seconds;
    }

    static float dbToGain(float db) noexcept { return db > -100.0f ? std::pow(10.0f, db * 0.05f) : 0.0f; }

private:
    static void sanitise(float* const* ch, int nch, int n) noexcept {
        for (int c = 0; c < nch; ++c)
            for (int i = 0; i < n; ++i)
                if (!std::isfinite(ch[c][i])) ch[c][i] = 0.0f;
    }
    bool finite(int nch, int len) const noexcept {
        for (int c = 0; c < nch; ++c)
            for (int i = 0; i < len; ++i)
                if (!std::isfinite(wet_[(size_t)c][(size_t)i])) return false;
        return true;
    }
    void delayInPlace(const ModelSlot* slot, float* const* buf, int nch, int n) noexcept {
        const int latency = slot ? slot->latency() : 0;
        const int cap = (int)dryDelay_[0].size();
        if (cap == 0) return;
        for (int i = 0; i < n; ++i) {
            const int w = (dryPos_ + i) % cap, r = (dryPos_ + i - latency + cap) % cap;
            for (int c = 0; c < nch; ++c) {
                dryDelay_[(size_t)c][(size_t)w] = buf[c][i];
                buf[c][i] = dryDelay_[(size_t)c][(size_t)r];
            }
        }
        dryPos_ = (dryPos_ + n) % cap;
    }

    std::array<float, kNumParams> values_{};
    double sampleRate_ = 48000.0;
    int maxBlock_ = 512;
    std::array<DcBlocker, kMaxChannels> dc_;
    LinearSmoother inGain_, outGain_, mix_;
    std::array<LinearSmoother, kMaxControls> controls_;
    std::array<std::vector<float>, kMaxChannels> wet_, dry_, dryDelay_;
    std::array<std::vector<float>, kMaxControls> controlBuf_;
    int dryPos_ = 0;
    std::atomic<bool> nonFiniteReset_{false};
};

}  // namespace effect
}  // namespace nscore
