// One synth voice: two wavetable oscillators and band-shaped noise into a resonant filter
// with its own envelope, then the amplitude envelope. The engine (engine.h) computes the
// smoothed, voice-independent controls for a chunk of samples once (VoiceControls) and every
// voice reads them, so a voice's output depends only on the sample clock, never on how the
// host cut the audio into blocks.
#pragma once

#include <cmath>
#include <cstdint>

#include "envelope.h"
#include "params.h"
#include "svf.h"
#include "wavetable.h"

namespace nscore {
namespace synth {

// Per-sample controls shared by all voices for one chunk (arrays of the chunk's length).
struct VoiceControls {
    const float *osc1Level, *osc2Level, *osc1Table, *osc2Table;
    const float *osc1Ratio, *osc2Ratio;  // frequency ratios from octave + detune
    const float *noiseLevel, *cutoffLog2, *resK, *envAmount;
    const float *pitchMod;  // semitones (LFO + pitch bend)
    const float *cutoffMod; // semitones (LFO)
    const float *tableMod;  // table-position offset (LFO)
    const float *ampMod;    // gain factor (LFO tremolo)
    int filterMode;
    float keytrack, velocitySens, glideCoef;  // glideCoef = 0 -> no glide
    SvfCoefs noiseCoefs;
    float noiseGain;  // band-pass peak normalisation
    double sampleRate;
};

class Voice {
public:
    int note = -1;
    bool held = false;       // key down
    bool sustained = false;  // key up while the sustain pedal is down
    uint64_t order = 0;      // note-on sequence number (voice stealing picks the oldest)

    bool active() const { return amp_.active(); }
    Adsr::Stage stage() const { return amp_.stage(); }
    double level() const { return amp_.level(); }
    float currentPitch() const { return (float)pitch_; }

    // Envelope times from the real parameter values (ms -> s).
    void setEnvelopes(double sr, const float* p) {
        amp_.setTimes(sr, p[kAmpAttack] * 1e-3f, p[kAmpDecay] * 1e-3f, p[kAmpSustain], p[kAmpRelease] * 1e-3f);
        fenv_.setTimes(sr, p[kFilterAttack] * 1e-3f, p[kFilterDecay] * 1e-3f, p[kFilterSustain],
                       p[kFilterRelease] * 1e-3f);
    }

    void start(int midiNote, int velocity, float fromPitch, uint32_t seed, bool retrigger) {
        note = midiNote;
        held = true;
        sustained = false;
        velocity_ = (float)velocity / 127.0f;
        targetPitch_ = (double)midiNote;
        if (!retrigger) {
            pitch_ = fromPitch;
            phase1_ = phase2_ = 0.0;
            filter_.clear();
            noiseFilter_.clear();
            amp_.clear();
            fenv_.clear();
            rng_ = seed ? seed : 0x9E3779B9u;
        }
        amp_.noteOn();
        fenv_.noteOn();
    }
    void release() { held = false; amp_.noteOff(); fenv_.noteOff(); }
    void kill() { held = false; amp_.kill(); }
    void clear() { amp_.clear(); fenv_.clear(); note = -1; held = sustained = false; }

    // Adds this voice into out[0..n).
    void render(const VoiceControls& c, int offset, float* out, int n) {
        const WavetableBank& bank = WavetableBank::instance();
        const float velAmp = 1.0f - c.velocitySens * (1.0f - velocity_ * velocity_);
        const float velEnv = 1.0f - c.velocitySens * (1.0f - velocity_);
        const double invSr = 1.0 / c.sampleRate;
        for (int i = 0; i < n; ++i) {
            const int t = offset + i;
            if (!amp_.active()) break;
            if (c.glideCoef > 0.0f) {  // in double: a float would stall ~2 cents short of the target
                pitch_ += (targetPitch_ - pitch_) * c.glideCoef;
                if (std::fabs(targetPitch_ - pitch_) < 1e-6) pitch_ = targetPitch_;
            } else {
                pitch_ = targetPitch_;
            }
            const float semis = (float)pitch_ + c.pitchMod[t];
            const double base = 440.0 * std::exp2(((double)semis - 69.0) / 12.0) * invSr;
            const float s1 = osc(bank, phase1_, base * c.osc1Ratio[t], c.osc1Table[t] + c.tableMod[t]);
            const float s2 = osc(bank, phase2_, base * c.osc2Ratio[t], c.osc2Table[t] + c.tableMod[t]);
            float mix = c.osc1Level[t] * s1 + c.osc2Level[t] * s2;
            if (c.noiseLevel[t] > 0.0f) {
                rng_ ^= rng_ << 13;
                rng_ ^= rng_ >> 17;
                rng_ ^= rng_ << 5;
                const float white = (float)(int32_t)rng_ * (1.0f / 2147483648.0f);
                mix += c.noiseLevel[t] * c.noiseGain * noiseFilter_.process(white, c.noiseCoefs, Svf::BandPass);
            }
            const float fe = (float)fenv_.next();
            const float cutSemis = c.envAmount[t] * velEnv * fe + c.keytrack * ((float)pitch_ - 60.0f) + c.cutoffMod[t];
            const float cutoff = std::exp2(c.cutoffLog2[t] + cutSemis * (1.0f / 12.0f));
            SvfCoefs fc;
            fc.set(svfG(cutoff, (float)c.sampleRate), c.resK[t]);
            const float y = filter_.process(mix, fc, c.filterMode);
            const float a = (float)amp_.next();
            out[t] += y * a * velAmp * c.ampMod[t];
        }
        if (!filter_.finite() || !noiseFilter_.finite()) {  // never let a blown-up filter keep sounding
            filter_.clear();
            noiseFilter_.clear();
        }
        if (!amp_.active()) note = -1;
    }

private:
    static float osc(const WavetableBank& bank, double& phase, double inc, float pos) {
        const int level = bank.levelFor(inc);
        pos = pos < 0.0f ? 0.0f : (pos > 1.0f ? 1.0f : pos);
        const float x = pos * (WavetableBank::kFrames - 1);
        int f0 = (int)x;
        if (f0 > WavetableBank::kFrames - 2) f0 = WavetableBank::kFrames - 2;
        const float fr = x - (float)f0;
        const float a = WavetableBank::read(bank.table(f0, level), phase);
        const float b = WavetableBank::read(bank.table(f0 + 1, level), phase);
        phase += inc;
        phase -= std::floor(phase);
        return a + fr * (b - a);
    }

    Adsr amp_, fenv_;
    Svf filter_, noiseFilter_;
    double phase1_ = 0.0, phase2_ = 0.0;
    double pitch_ = 60.0, targetPitch_ = 60.0;
    float velocity_ = 1.0f;
    uint32_t rng_ = 1;
};

}  // namespace synth
}  // namespace nscore
