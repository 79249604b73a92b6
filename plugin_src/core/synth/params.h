// The instrument's parameters: one table that the engine, the plugin shell (JUCE parameters),
// the C bridge and Python all read, so names, units, ranges and the normalized mapping exist once.
//
// Every parameter is a float with a real value (what the engine uses, in its unit) and a
// normalized value in 0..1 (what hosts automate and what .fxp FxCk presets store).
// fromNormalized() clamps, maps and snaps (whole numbers / choices); toNormalized() inverts it.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstring>

namespace nscore {
namespace synth {

enum class Scale : int {
    Linear = 0,  // min + n (max - min)
    Log = 1,     // min (max/min)^n, min > 0
    Int = 2,     // whole numbers min..max
    Choice = 3,  // index 0..count-1 (min = 0, max = count-1); labels in `choices`, '|'-separated
    Cubic = 4,   // min + n^3 (max - min): fine control near min (glide)
};

struct ParamSpec {
    const char* id;       // stable identifier (JUCE parameter id, JSON key)
    const char* name;     // display name
    const char* unit;     // "", "Hz", "ms", "dB", "ct", "st", "oct"
    float min, max, def;  // real values
    Scale scale;
    const char* choices;  // '|'-separated labels for Scale::Choice, else ""
    const char* group;    // "Oscillators", "Noise", "Filter", ... (for editors and docs)
};

enum ParamIndex : int {
    kOsc1Level, kOsc1Octave, kOsc1Detune, kOsc1Table,
    kOsc2Level, kOsc2Octave, kOsc2Detune, kOsc2Table,
    kNoiseLevel, kNoiseFreq, kNoiseWidth,
    kFilterMode, kFilterCutoff, kFilterResonance, kFilterEnvAmount, kFilterKeytrack,
    kFilterAttack, kFilterDecay, kFilterSustain, kFilterRelease,
    kAmpAttack, kAmpDecay, kAmpSustain, kAmpRelease,
    kLfoRate, kLfoShape, kLfoTarget, kLfoDepth,
    kGlide, kVelocitySens,
    kReverbMix, kReverbSize, kReverbDamping,
    kNeuralMix, kNeuralDrive,
    kMasterGain,
    kNumParams
};

inline const ParamSpec* paramTable() {
    static const ParamSpec table[kNumParams] = {
        {"osc1_level", "Osc 1 Level", "", 0.0f, 1.0f, 0.8f, Scale::Linear, "", "Oscillators"},
        {"osc1_octave", "Osc 1 Octave", "oct", -3.0f, 3.0f, 0.0f, Scale::Int, "", "Oscillators"},
        {"osc1_detune", "Osc 1 Detune", "ct", -100.0f, 100.0f, 0.0f, Scale::Linear, "", "Oscillators"},
        {"osc1_table", "Osc 1 Table", "", 0.0f, 1.0f, 2.0f / 7.0f, Scale::Linear, "", "Oscillators"},
        {"osc2_level", "Osc 2 Level", "", 0.0f, 1.0f, 0.5f, Scale::Linear, "", "Oscillators"},
        {"osc2_octave", "Osc 2 Octave", "oct", -3.0f, 3.0f, 0.0f, Scale::Int, "", "Oscillators"},
        {"osc2_detune", "Osc 2 Detune", "ct", -100.0f, 100.0f, 7.0f, Scale::Linear, "", "Oscillators"},
        {"osc2_table", "Osc 2 Table", "", 0.0f, 1.0f, 3.0f / 7.0f, Scale::Linear, "", "Oscillators"},
        {"noise_level", "Noise Level", "", 0.0f, 1.0f, 0.0f, Scale::Linear, "", "Noise"},
        {"noise_freq", "Noise Band", "Hz", 50.0f, 16000.0f, 3000.0f, Scale::Log, "", "Noise"},
        {"noise_width", "Noise Width", "oct", 0.1f, 8.0f, 2.0f, Scale::Log, "", "Noise"},
        {"filter_mode", "Filter Mode", "", 0.0f, 2.0f, 0.0f, Scale::Choice, "Low-pass|Band-pass|High-pass", "Filter"},
        {"filter_cutoff", "Filter Cutoff", "Hz", 20.0f, 20000.0f, 2000.0f, Scale::Log, "", "Filter"},
        {"filter_resonance", "Filter Resonance", "", 0.0f, 1.0f, 0.2f, Scale::Linear, "", "Filter"},
        {"filter_env_amount", "Filter Env Amount", "st", -60.0f, 60.0f, 24.0f, Scale::Linear, "", "Filter"},
        {"filter_keytrack", "Filter Keytrack", "", 0.0f, 1.0f, 0.5f, Scale::Linear, "", "Filter"},
        {"filter_attack", "Filter Attack", "ms", 1.0f, 10000.0f, 5.0f, Scale::Log, "", "Filter Envelope"},
        {"filter_decay", "Filter Decay", "ms", 1.0f, 10000.0f, 300.0f, Scale::Log, "", "Filter Envelope"},
        {"filter_sustain", "Filter Sustain", "", 0.0f, 1.0f, 0.3f, Scale::Linear, "", "Filter Envelope"},
        {"filter_release", "Filter Release", "ms", 1.0f, 10000.0f, 300.0f, Scale::Log, "", "Filter Envelope"},
        {"amp_attack", "Amp Attack", "ms", 1.0f, 10000.0f, 3.0f, Scale::Log, "", "Amp Envelope"},
        {"amp_decay", "Amp Decay", "ms", 1.0f, 10000.0f, 300.0f, Scale::Log, "", "Amp Envelope"},
        {"amp_sustain", "Amp Sustain", "", 0.0f, 1.0f, 0.8f, Scale::Linear, "", "Amp Envelope"},
        {"amp_release", "Amp Release", "ms", 5.0f, 10000.0f, 250.0f, Scale::Log, "", "Amp Envelope"},
        {"lfo_rate", "LFO Rate", "Hz", 0.05f, 30.0f, 4.0f, Scale::Log, "", "LFO"},
        {"lfo_shape", "LFO Shape", "", 0.0f, 4.0f, 0.0f, Scale::Choice, "Sine|Triangle|Saw|Square|Sample & Hold", "LFO"},
        {"lfo_target", "LFO Target", "", 0.0f, 3.0f, 1.0f, Scale::Choice, "Pitch|Cutoff|Table|Amp", "LFO"},
        {"lfo_depth", "LFO Depth", "", 0.0f, 1.0f, 0.0f, Scale::Linear, "", "LFO"},
        {"glide", "Glide", "ms", 0.0f, 2000.0f, 0.0f, Scale::Cubic, "", "Voice"},
        {"velocity_sens", "Velocity Sensitivity", "", 0.0f, 1.0f, 0.7f, Scale::Linear, "", "Voice"},
        {"reverb_mix", "Reverb Mix", "", 0.0f, 1.0f, 0.15f, Scale::Linear, "", "Reverb"},
        {"reverb_size", "Reverb Size", "", 0.0f, 1.0f, 0.5f, Scale::Linear, "", "Reverb"},
        {"reverb_damping", "Reverb Damping", "", 0.0f, 1.0f, 0.5f, Scale::Linear, "", "Reverb"},
        {"neural_mix", "Neural Mix", "", 0.0f, 1.0f, 0.0f, Scale::Linear, "", "Neural"},
        {"neural_drive", "Neural Drive", "dB", -24.0f, 24.0f, 0.0f, Scale::Linear, "", "Neural"},
        {"master_gain", "Master Gain", "dB", -60.0f, 6.0f, -6.0f, Scale::Linear, "", "Output"},
    };
    return table;
}

inline const ParamSpec& paramSpec(int index) { return paramTable()[index]; }

inline int paramIndex(const char* id) {
    for (int i = 0; i < kNumParams; ++i)
        if (std::strcmp(paramTable()[i].id, id) == 0) return i;
    return -1;
}

// Round and clamp a real value to what the parameter can hold.
inline float snapParam(int index, float v) {
    const ParamSpec& p = paramSpec(index);
    if (!(v == v)) v = p.def;  // NaN
    v = std::min(p.max, std::max(p.min, v));
    if (p.scale == Scale::Int || p.scale == Scale::Choice) v = std::nearbyint(v);
    return v;
}

inline float paramFromNormalized(int index, float n) {
    const ParamSpec& p = paramSpec(index);
    if (!(n == n)) n = 0.0f;
    n = std::min(1.0f, std::max(0.0f, n));
    float v;
    switch (p.scale) {
        case Scale::Log: v = p.min * std::pow(p.max / p.min, n); break;
        case Scale::Cubic: v = p.min + n * n * n * (p.max - p.min); break;
        default: v = p.min + n * (p.max - p.min); break;
    }
    return snapParam(index, v);
}

inline float paramToNormalizedApprox(int index, float v) {
    const ParamSpec& p = paramSpec(index);
    v = snapParam(index, v);
    float n;
    switch (p.scale) {
        case Scale::Log: n = std::log(v / p.min) / std::log(p.max / p.min); break;
        case Scale::Cubic: n = std::cbrt((v - p.min) / (p.max - p.min)); break;
        default: n = (v - p.min) / (p.max - p.min); break;
    }
    return std::min(1.0f, std::max(0.0f, n));
}

// The normalized value of a real one, chosen so that paramFromNormalized() gives `v` back
// exactly whenever some normalized value does (the formula alone can miss by an ulp). Hosts
// compare and store normalized values; with this, a value that went through a host once comes
// back bit-identical, so host and bridge renders agree to the sample.
inline float paramToNormalized(int index, float v) {
    v = snapParam(index, v);
    const float n0 = paramToNormalizedApprox(index, v);
    if (paramFromNormalized(index, n0) == v) return n0;
    float up = n0, down = n0;
    for (int k = 0; k < 8; ++k) {
        up = std::nextafter(up, 2.0f);
        down = std::nextafter(down, -1.0f);
        if (up <= 1.0f && paramFromNormalized(index, up) == v) return up;
        if (down >= 0.0f && paramFromNormalized(index, down) == v) return down;
    }
    return n0;
}

// The default as a value the normalized mapping can reproduce exactly (see above).
inline float paramDefault(int index) {
    return paramFromNormalized(index, paramToNormalized(index, paramSpec(index).def));
}

}  // namespace synth
}  // namespace nscore
