// The effect's parameters: one table that the chain (core/effect/chain.h), the plugin shell (JUCE
// parameters), the C bridge (ns_effect_*), Python (neuralsynth.effect) and the validator read, so
// ids, names, units, ranges, defaults and steps exist once.
//
// Values are real values in the parameter's unit (dB, %, on/off as 0/1). Control k is the model's
// extra input k+1 (conditioning / knob values); only as many as the model has are in use.
#pragma once

#include <algorithm>
#include <cstring>

namespace nscore {
namespace effect {

enum class Kind : int {
    Float = 0,   // min..max in steps of `step`
    Toggle = 1,  // 0 (off) or 1 (on)
};

struct ParamSpec {
    const char* id;    // stable identifier (JUCE parameter id, JSON key)
    const char* name;  // display name
    const char* unit;  // "", "dB", "%"
    float min, max, def, step;
    Kind kind;
};

constexpr int kMaxChannels = 2;  // a mono model runs once per channel
constexpr int kMaxControls = 8;  // control inputs a model may have beyond the audio input
constexpr double kSmoothingSeconds = 0.02;  // linear ramps of gains, mix and controls

enum ParamIndex : int {
    kInputGain,
    kOutputGain,
    kMix,
    kDcBlock,
    kBypass,
    kControl1,
    kNumParams = kControl1 + kMaxControls
};

inline const ParamSpec* paramTable() {
    static const ParamSpec table[kNumParams] = {
        {"input_gain", "Input Gain", "dB", -24.0f, 24.0f, 0.0f, 0.01f, Kind::Float},
        {"output_gain", "Output Gain", "dB", -24.0f, 24.0f, 0.0f, 0.01f, Kind::Float},
        {"mix", "Mix", "%", 0.0f, 100.0f, 100.0f, 0.01f, Kind::Float},
        {"dc_block", "DC Block", "", 0.0f, 1.0f, 1.0f, 1.0f, Kind::Toggle},
        {"bypass", "Bypass", "", 0.0f, 1.0f, 0.0f, 1.0f, Kind::Toggle},
        {"control_1", "Control 1", "", 0.0f, 1.0f, 0.0f, 0.0001f, Kind::Float},
        {"control_2", "Control 2", "", 0.0f, 1.0f, 0.0f, 0.0001f, Kind::Float},
        {"control_3", "Control 3", "", 0.0f, 1.0f, 0.0f, 0.0001f, Kind::Float},
        {"control_4", "Control 4", "", 0.0f, 1.0f, 0.0f, 0.0001f, Kind::Float},
        {"control_5", "Control 5", "", 0.0f, 1.0f, 0.0f, 0.0001f, Kind::Float},
        {"control_6", "Control 6", "", 0.0f, 1.0f, 0.0f, 0.0001f, Kind::Float},
        {"control_7", "Control 7", "", 0.0f, 1.0f, 0.0f, 0.0001f, Kind::Float},
        {"control_8", "Control 8", "", 0.0f, 1.0f, 0.0f, 0.0001f, Kind::Float},
    };
    return table;
}

inline const ParamSpec& paramSpec(int index) { return paramTable()[index]; }

inline int paramIndex(const char* id) {
    for (int i = 0; i < kNumParams; ++i)
        if (std::strcmp(paramTable()[i].id, id) == 0) return i;
    return -1;
}

// A real value clamped to the parameter's range (NaN -> default; toggles -> 0 or 1).
inline float clampParam(int index, float v) {
    const ParamSpec& p = paramSpec(index);
    if (!(v == v)) return p.def;
    v = std::min(p.max, std::max(p.min, v));
    if (p.kind == Kind::Toggle) v = v > 0.5f ? 1.0f : 0.0f;
    return v;
}

}  // namespace effect
}  // namespace nscore
