// Resonant state-variable filter in the trapezoidal-integrator (topology-preserving) form:
// stable under fast modulation, with low-, band- and high-pass outputs from one structure.
// g = tan(pi fc / fs), k = 1 / Q.
#pragma once

#include <cmath>

namespace nscore {
namespace synth {

struct SvfCoefs {
    float g = 0.0f, k = 2.0f, a1 = 1.0f, a2 = 0.0f, a3 = 0.0f;
    void set(float g_, float k_) {
        g = g_;
        k = k_;
        a1 = 1.0f / (1.0f + g * (g + k));
        a2 = g * a1;
        a3 = g * a2;
    }
};

class Svf {
public:
    enum Mode : int { LowPass = 0, BandPass = 1, HighPass = 2 };
    void clear() { s1_ = s2_ = 0.0f; }
    float process(float x, const SvfCoefs& c, int mode) {
        const float v3 = x - s2_;
        const float v1 = c.a1 * s1_ + c.a2 * v3;
        const float v2 = s2_ + c.a2 * s1_ + c.a3 * v3;
        s1_ = 2.0f * v1 - s1_;
        s2_ = 2.0f * v2 - s2_;
        switch (mode) {
            case BandPass: return v1;
            case HighPass: return x - c.k * v1 - v2;
            default: return v2;
        }
    }
    bool finite() const { return std::isfinite(s1_) && std::isfinite(s2_); }

private:
    float s1_ = 0.0f, s2_ = 0.0f;
};

// tan(pi x) for x in [0, 0.49], via std::tan (exactness over speed: both hosts and the bridge
// must compute the same numbers, and the cost is a few percent of a voice).
inline float svfG(float cutoffHz, float sampleRate) {
    float x = cutoffHz / sampleRate;
    x = x < 1e-5f ? 1e-5f : (x > 0.49f ? 0.49f : x);
    return (float)std::tan(3.14159265358979323846 * (double)x);
}

}  // namespace synth
}  // namespace nscore
