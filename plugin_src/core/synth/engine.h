// The NeuralSynth instrument engine: polyphonic voices (voice.h), a global LFO, a "neural
// character" stage running any model the core loads on the voice sum, a reverb, and the
// master gain. Stereo out.
//
// Real-time contract (same as models): prepare(sampleRate, maxBlockSize) allocates;
// process(events, numEvents, left, right, n) never allocates, locks, throws or does I/O;
// reset() returns to the initial state. Events carry sample offsets inside the call and are
// applied sample-accurately; parameters are smoothed per sample from the sample clock, so the
// output does not depend on how a host cuts the audio into blocks. The noise of each voice
// is seeded from the note-on count, so renders are deterministic.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <memory>
#include <vector>

#include "../models/model.h"
#include "params.h"
#include "reverb.h"
#include "voice.h"

namespace nscore {
namespace synth {

struct MidiEvent {
    int32_t sample;  // offset inside the process() call
    uint8_t status, data1, data2, pad;
};

class SynthEngine {
public:
    static constexpr int kMaxVoices = 8;  // notes sounding at once
    static constexpr int kSlots = 12;     // plus voices fading out after being stolen

    SynthEngine() {
        for (int i = 0; i < kNumParams; ++i) params_[i] = paramDefault(i);
        (void)WavetableBank::instance();
    }

    // Not real-time: set (or clear, with nullptr) the model of the neural stage. The model must
    // take one input and give one output. Call prepare() afterwards (or before: it is prepared here
    // when the engine already is).
    void setModel(std::unique_ptr<Model> model) {
        if (model && (model->numInputs() != 1 || model->numOutputs() != 1))
            throw ModelError(ErrorCode::Argument,
                             "the neural stage needs a model with 1 input and 1 output, got " +
                                 std::to_string(model->numInputs()) + " inputs and " +
                                 std::to_string(model->numOutputs()) + " outputs");
        model_ = std::move(model);
        if (model_ && prepared_) model_->prepare(sr_, maxBlock_);
        neuralActive_ = false;
    }
    const Model* model() const { return model_.get(); }

    void prepare(double sampleRate, int maxBlockSize) {
        if (!(sampleRate >= 1000.0 && sampleRate <= 1536000.0))
            throw ModelError(ErrorCode::Argument, "prepare: sample rate must be in 1000..1536000 Hz");
        if (maxBlockSize < 1 || maxBlockSize > Limits::maxBlockSize)
            throw ModelError(ErrorCode::Argument, "prepare: maxBlockSize must be in 1.." +
                                                      std::to_string(Limits::maxBlockSize));
        prepared_ = false;  // until everything below has been allocated (process() renders silence)
        sr_ = sampleRate;
        maxBlock_ = maxBlockSize;
        scratch_.assign((size_t)kNumArrays * maxBlock_, 0.0f);
        reverb_.prepare(sr_);
        if (model_) model_->prepare(sr_, maxBlock_);
        smoothCoef_ = (float)(1.0 - std::exp(-1.0 / (0.005 * sr_)));  // 5 ms
        prepared_ = true;
        reset();
    }

    void reset() {
        for (auto& v : voices_) v.clear();
        for (auto& v : voices_) v.setEnvelopes(sr_, params_);
        reverb_.clear();
        reverb_.configure(params_[kReverbSize], params_[kReverbDamping]);
        if (model_ && prepared_) model_->reset();
        neuralActive_ = false;
        lfoPhase_ = 0.0;
        lfoHold_ = 0.0f;
        lfoRng_ = 0x2545F491u;
        noteCounter_ = 0;
        lastPitch_ = -1.0f;
        pitchBend_ = 0.0f;
        sustainPedal_ = false;
        nonFinite_ = 0;
        updateTargets();
        for (int i = 0; i < kNumSmoothed; ++i) smooth_[i] = target_[i];
        envDirty_ = false;
    }

    // Jump every smoothed control to its parameter's current value (no glide). Real-time safe.
    // For hosts that deliver the initial parameter values with the first block rather than
    // before prepare() (LV2): the render then starts exactly as if the values had been set first.
    void snapSmoothing() noexcept {
        updateTargets();
        reverb_.configure(params_[kReverbSize], params_[kReverbDamping]);
        for (auto& v : voices_) v.setEnvelopes(sr_, params_);
        for (int i = 0; i < kNumSmoothed; ++i) smooth_[i] = target_[i];
        paramsDirty_ = envDirty_ = false;
    }

    bool prepared() const { return prepared_; }
    double sampleRate() const { return sr_; }
    int maxBlockSize() const { return maxBlock_; }
    uint64_t nonFiniteSamples() const { return nonFinite_; }

    // Real-time safe. Values are snapped to the parameter's range.
    void setParam(int index, float value) noexcept {
        if (index < 0 || index >= kNumParams) return;
        value = snapParam(index, value);
        if (params_[index] == value) return;
        params_[index] = value;
        if (index >= kFilterAttack && index <= kAmpRelease) envDirty_ = true;
        paramsDirty_ = true;
    }
    void setParamNormalized(int index, float n) noexcept {
        if (index < 0 || index >= kNumParams) return;
        setParam(index, paramFromNormalized(index, n));
    }
    float param(int index) const { return (index >= 0 && index < kNumParams) ? params_[index] : 0.0f; }

    int activeVoices() const {
        int n = 0;
        for (const auto& v : voices_) n += v.active() ? 1 : 0;
        return n;
    }

    void process(const MidiEvent* events, int numEvents, float* left, float* right, int n) noexcept {
        if (n <= 0) return;
        if (!prepared_) {
            std::fill(left, left + n, 0.0f);
            std::fill(right, right + n, 0.0f);
            return;
        }
        if (paramsDirty_) {
            updateTargets();
            reverb_.configure(params_[kReverbSize], params_[kReverbDamping]);
            paramsDirty_ = false;
        }
        if (envDirty_) {
            for (auto& v : voices_) v.setEnvelopes(sr_, params_);
            envDirty_ = false;
        }
        int e = 0, pos = 0;
        while (pos < n) {
            while (e < numEvents && events[e].sample <= pos) handleEvent(events[e++]);
            int end = n;
            if (e < numEvents && events[e].sample < end) end = std::max(pos + 1, (int)events[e].sample);
            end = std::min(end, pos + maxBlock_);
            renderChunk(left + pos, right + pos, end - pos);
            pos = end;
        }
        while (e < numEvents) handleEvent(events[e++]);  // events at or past the end
    }

    // MIDI, real-time safe (also used by process()).
    void handleEvent(const MidiEvent& ev) noexcept {
        const int type = ev.status & 0xF0;
        if (type == 0x90 && ev.data2 > 0) noteOn(ev.data1 & 0x7F, ev.data2 & 0x7F);
        else if (type == 0x80 || type == 0x90) noteOff(ev.data1 & 0x7F);
        else if (type == 0xB0) controller(ev.data1, ev.data2);
        else if (type == 0xE0) pitchBend_ = 2.0f * ((float)(((ev.data2 & 0x7F) << 7) | (ev.data1 & 0x7F)) - 8192.0f) / 8192.0f;
    }

    void noteOn(int note, int velocity) noexcept {
        ++noteCounter_;
        const uint32_t seed = (uint32_t)(noteCounter_ * 2654435761u) ^ (uint32_t)(note * 40503u) ^ 0xA5A5A5A5u;
        const float from = (params_[kGlide] > 0.0f && lastPitch_ >= 0.0f) ? currentGlidePitch() : (float)note;
        lastPitch_ = (float)note;
        for (auto& v : voices_)  // same key again: retrigger its voice, no new voice, no step
            if (v.active() && v.note == note && v.stage() != Adsr::Kill) {
                v.order = noteCounter_;
                v.start(note, velocity, from, seed, true);
                return;
            }
        int sounding = 0;
        for (const auto& v : voices_) sounding += (v.active() && v.stage() != Adsr::Kill) ? 1 : 0;
        if (sounding >= kMaxVoices) {  // steal: the oldest released voice, else the oldest
            Voice* victim = nullptr;
            for (auto& v : voices_) {
                if (!v.active() || v.stage() == Adsr::Kill) continue;
                const bool rel = v.stage() == Adsr::Release;
                if (!victim) { victim = &v; continue; }
                const bool vrel = victim->stage() == Adsr::Release;
                if ((rel && !vrel) || (rel == vrel && v.order < victim->order)) victim = &v;
            }
            if (victim) victim->kill();
        }
        Voice* slot = nullptr;
        for (auto& v : voices_)
            if (!v.active()) { slot = &v; break; }
        if (!slot) {  // every slot busy fading: cut the quietest fade
            for (auto& v : voices_)
                if (v.stage() == Adsr::Kill && (!slot || v.level() < slot->level())) slot = &v;
            if (!slot) slot = &voices_[0];
            slot->clear();
        }
        slot->order = noteCounter_;
        slot->setEnvelopes(sr_, params_);
        slot->start(note, velocity, from, seed, false);
    }

    void noteOff(int note) noexcept {
        for (auto& v : voices_)
            if (v.active() && v.note == note && v.held) {
                if (sustainPedal_) { v.held = false; v.sustained = true; }
                else v.release();
            }
    }

    void allNotesOff() noexcept {
        sustainPedal_ = false;
        for (auto& v : voices_)
            if (v.active() && (v.held || v.sustained)) { v.sustained = false; v.release(); }
    }

private:
    enum Smoothed : int {
        sOsc1Level, sOsc2Level, sOsc1Table, sOsc2Table, sOsc1Detune, sOsc2Detune, sNoiseLevel,
        sCutoffLog2, sResK, sEnvAmount, sLfoDepth, sReverbMix, sNeuralMix, sNeuralDrive, sMaster,
        kNumSmoothed
    };
    // scratch arrays, each maxBlock long
    enum Arrays : int {
        aOsc1Level, aOsc2Level, aOsc1Table, aOsc2Table, aOsc1Ratio, aOsc2Ratio, aNoiseLevel, aCutoffLog2,
        aResK, aEnvAmount, aPitchMod, aCutoffMod, aTableMod, aAmpMod, aReverbMix, aNeuralMix, aNeuralDrive,
        aMaster, aMono, aModelIn, aModelOut, aWetL, aWetR, kNumArrays
    };

    float* arr(int a) { return scratch_.data() + (size_t)a * maxBlock_; }

    static float dbToGain(float db) { return std::pow(10.0f, db / 20.0f); }

    void updateTargets() {
        const float* p = params_;
        target_[sOsc1Level] = p[kOsc1Level];
        target_[sOsc2Level] = p[kOsc2Level];
        target_[sOsc1Table] = p[kOsc1Table];
        target_[sOsc2Table] = p[kOsc2Table];
        target_[sOsc1Detune] = p[kOsc1Detune];
        target_[sOsc2Detune] = p[kOsc2Detune];
        target_[sNoiseLevel] = p[kNoiseLevel];
        target_[sCutoffLog2] = std::log2(p[kFilterCutoff]);
        target_[sResK] = 2.0f * (1.0f - 0.97f * p[kFilterResonance]);
        target_[sEnvAmount] = p[kFilterEnvAmount];
        target_[sLfoDepth] = p[kLfoDepth];
        target_[sReverbMix] = p[kReverbMix];
        target_[sNeuralMix] = p[kNeuralMix];
        target_[sNeuralDrive] = dbToGain(p[kNeuralDrive]);
        target_[sMaster] = dbToGain(p[kMasterGain]);
        // noise band-pass: centre and width in octaves -> Q = sqrt(2^bw) / (2^bw - 1)
        const float r = std::exp2(p[kNoiseWidth]);
        const float q = std::sqrt(r) / (r - 1.0f);
        noiseCoefs_.set(svfG(p[kNoiseFreq], (float)sr_), 1.0f / q);
        noiseGain_ = 1.0f / q * 2.0f;  // band-pass peak gain is Q: normalise to 1, +6 dB for the lost band energy
        glideCoef_ = p[kGlide] > 0.0f ? (float)(1.0 - std::exp(-1.0 / (p[kGlide] * 1e-3 * sr_ / 3.0))) : 0.0f;
    }

    float currentGlidePitch() const {
        // the pitch the newest voice has reached (glide starts from there)
        const Voice* newest = nullptr;
        for (const auto& v : voices_)
            if (v.active() && v.stage() != Adsr::Kill && (!newest || v.order > newest->order)) newest = &v;
        return newest ? newest->currentPitch() : lastPitch_;
    }

    float lfoValue() {
        const double p = lfoPhase_;
        switch ((int)params_[kLfoShape]) {
            case 1: return 1.0f - 4.0f * (float)std::fabs(std::fmod(p + 0.25, 1.0) - 0.5);  // triangle, starts at 0
            case 2: return (float)(1.0 - 2.0 * p);                                          // saw down
            case 3: return p < 0.5 ? 1.0f : -1.0f;                                          // square
            case 4: return lfoHold_;                                                        // sample & hold
            default: return (float)std::sin(2.0 * 3.14159265358979323846 * p);
        }
    }

    void advanceLfo() {
        lfoPhase_ += params_[kLfoRate] / sr_;
        if (lfoPhase_ >= 1.0) {
            lfoPhase_ -= std::floor(lfoPhase_);
            lfoRng_ ^= lfoRng_ << 13;
            lfoRng_ ^= lfoRng_ >> 17;
            lfoRng_ ^= lfoRng_ << 5;
            lfoHold_ = (float)(int32_t)lfoRng_ * (1.0f / 2147483648.0f);
        }
    }

    void controller(int cc, int value) noexcept {
        if (cc == 64) {
            const bool down = value >= 64;
            if (sustainPedal_ && !down)
                for (auto& v : voices_)
                    if (v.active() && v.sustained) { v.sustained = false; v.release(); }
            sustainPedal_ = down;
        } else if (cc == 120) {  // all sound off
            for (auto& v : voices_) v.clear();
        } else if (cc == 123) {
            allNotesOff();
        }
    }

    void renderChunk(float* left, float* right, int n) noexcept {
        // 1. voice-independent controls, per sample
        float* A[kNumArrays];
        for (int a = 0; a < kNumArrays; ++a) A[a] = arr(a);
        const int target = (int)params_[kLfoTarget];
        for (int t = 0; t < n; ++t) {
            for (int s = 0; s < kNumSmoothed; ++s) {
                // One-pole glide that always lands: once a step no longer moves the float (or the
                // gap is tiny) it snaps to the target, so the state never depends on history.
                float& v = smooth_[s];
                const float nv = v + (target_[s] - v) * smoothCoef_;
                v = (nv == v || std::fabs(target_[s] - nv) < 1e-6f) ? target_[s] : nv;
            }
            const float lfo = lfoValue();
            advanceLfo();
            const float depth = smooth_[sLfoDepth];
            A[aOsc1Level][t] = smooth_[sOsc1Level];
            A[aOsc2Level][t] = smooth_[sOsc2Level];
            A[aOsc1Table][t] = smooth_[sOsc1Table];
            A[aOsc2Table][t] = smooth_[sOsc2Table];
            A[aOsc1Ratio][t] = std::exp2(params_[kOsc1Octave] + smooth_[sOsc1Detune] * (1.0f / 1200.0f));
            A[aOsc2Ratio][t] = std::exp2(params_[kOsc2Octave] + smooth_[sOsc2Detune] * (1.0f / 1200.0f));
            A[aNoiseLevel][t] = smooth_[sNoiseLevel];
            A[aCutoffLog2][t] = smooth_[sCutoffLog2];
            A[aResK][t] = smooth_[sResK];
            A[aEnvAmount][t] = smooth_[sEnvAmount];
            A[aPitchMod][t] = pitchBend_ + (target == 0 ? 12.0f * depth * lfo : 0.0f);
            A[aCutoffMod][t] = target == 1 ? 48.0f * depth * lfo : 0.0f;
            A[aTableMod][t] = target == 2 ? 0.5f * depth * lfo : 0.0f;
            A[aAmpMod][t] = target == 3 ? 1.0f - depth * (0.5f - 0.5f * lfo) : 1.0f;
            A[aReverbMix][t] = smooth_[sReverbMix];
            A[aNeuralMix][t] = smooth_[sNeuralMix];
            A[aNeuralDrive][t] = smooth_[sNeuralDrive];
            A[aMaster][t] = smooth_[sMaster];
            A[aMono][t] = 0.0f;
        }
        // 2. voices
        VoiceControls c;
        c.osc1Level = A[aOsc1Level]; c.osc2Level = A[aOsc2Level];
        c.osc1Table = A[aOsc1Table]; c.osc2Table = A[aOsc2Table];
        c.osc1Ratio = A[aOsc1Ratio]; c.osc2Ratio = A[aOsc2Ratio];
        c.noiseLevel = A[aNoiseLevel]; c.cutoffLog2 = A[aCutoffLog2]; c.resK = A[aResK];
        c.envAmount = A[aEnvAmount]; c.pitchMod = A[aPitchMod]; c.cutoffMod = A[aCutoffMod];
        c.tableMod = A[aTableMod]; c.ampMod = A[aAmpMod];
        c.filterMode = (int)params_[kFilterMode];
        c.keytrack = params_[kFilterKeytrack];
        c.velocitySens = params_[kVelocitySens];
        c.glideCoef = glideCoef_;
        c.noiseCoefs = noiseCoefs_;
        c.noiseGain = noiseGain_;
        c.sampleRate = sr_;
        float* mono = A[aMono];
        for (auto& v : voices_)
            if (v.active()) v.render(c, 0, mono, n);
        for (int t = 0; t < n; ++t) mono[t] *= 0.5f;  // headroom for chords
        // 3. neural character stage (runs while its mix is, or is fading from, non-zero)
        if (model_ && (params_[kNeuralMix] > 0.0f || neuralActive_)) {
            if (!neuralActive_) { model_->reset(); neuralActive_ = true; }
            float* xin = A[aModelIn];
            float* yout = A[aModelOut];
            for (int t = 0; t < n; ++t) xin[t] = mono[t] * A[aNeuralDrive][t];
            const float* ins[1] = {xin};
            float* outs[1] = {yout};
            model_->process(ins, outs, n);
            for (int t = 0; t < n; ++t) mono[t] += A[aNeuralMix][t] * (yout[t] - mono[t]);
            if (params_[kNeuralMix] == 0.0f && smooth_[sNeuralMix] == 0.0f) neuralActive_ = false;
        }
        for (int t = 0; t < n; ++t)  // a model that returns NaN/Inf must not poison the reverb
            if (!std::isfinite(mono[t])) { ++nonFinite_; mono[t] = 0.0f; }
        // 4. reverb and output
        float* wl = A[aWetL];
        float* wr = A[aWetR];
        reverb_.process(mono, wl, wr, n);
        for (int t = 0; t < n; ++t) {
            const float m = A[aReverbMix][t];
            const float g = A[aMaster][t];
            float l = g * (mono[t] + m * (wl[t] - mono[t]));
            float r = g * (mono[t] + m * (wr[t] - mono[t]));
            if (!std::isfinite(l) || !std::isfinite(r)) {
                ++nonFinite_;
                l = r = 0.0f;
            }
            left[t] = l;
            right[t] = r;
        }
    }

    float params_[kNumParams];
    float target_[kNumSmoothed] = {}, smooth_[kNumSmoothed] = {};
    Voice voices_[kSlots];
    Reverb reverb_;
    std::unique_ptr<Model> model_;
    std::vector<float> scratch_;
    SvfCoefs noiseCoefs_;
    float noiseGain_ = 1.0f, glideCoef_ = 0.0f, smoothCoef_ = 0.01f;
    double sr_ = 48000.0;
    int maxBlock_ = 0;
    bool prepared_ = false, neuralActive_ = false, paramsDirty_ = false, envDirty_ = false, sustainPedal_ = false;
    double lfoPhase_ = 0.0;
    float lfoHold_ = 0.0f;
    uint32_t lfoRng_ = 1;
    uint64_t noteCounter_ = 0, nonFinite_ = 0;
    float lastPitch_ = -1.0f, pitchBend_ = 0.0f;
};

}  // namespace synth
}  // namespace nscore
