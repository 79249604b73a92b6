// ADSR envelope: linear attack, exponential decay and release (one-pole segments aimed a little
// past their target so they arrive in finite time). Times are in seconds; a release starts
// from wherever the envelope is, so note-offs never step.
#pragma once

#include <algorithm>
#include <cmath>

namespace nscore {
namespace synth {

class Adsr {
public:
    enum Stage : int { Idle, Attack, Decay, Sustain, Release, Kill };

    void setTimes(double sampleRate, float attackS, float decayS, float sustain, float releaseS) {
        sustain_ = std::min(1.0f, std::max(0.0f, sustain));
        attackInc_ = 1.0 / std::max(1.0, attackS * sampleRate);
        decayCoef_ = segmentCoef(decayS * sampleRate);
        releaseCoef_ = segmentCoef(releaseS * sampleRate);
        killInc_ = 1.0 / std::max(1.0, 0.003 * sampleRate);  // voice stealing: 3 ms fade
    }

    void noteOn() { stage_ = Attack; }                  // from the current level (retrigger without a step)
    void noteOff() { if (stage_ != Idle && stage_ != Kill) stage_ = Release; }
    void kill() { if (stage_ != Idle) stage_ = Kill; }   // fast fade, then Idle
    void clear() { stage_ = Idle; level_ = 0.0; }

    Stage stage() const { return stage_; }
    bool active() const { return stage_ != Idle; }
    double level() const { return level_; }

    double next() {
        switch (stage_) {
            case Idle: return 0.0;
            case Attack:
                level_ += attackInc_;
                if (level_ >= 1.0) { level_ = 1.0; stage_ = Decay; }
                break;
            case Decay: {
                // aim 1 % of the step below the sustain level, stop at it
                const double target = sustain_ - 0.01 * (1.0 - sustain_);
                level_ = target + (level_ - target) * decayCoef_;
                if (level_ <= sustain_) { level_ = sustain_; stage_ = Sustain; }
                break;
            }
            case Sustain: level_ = sustain_; break;
            case Release: {
                const double target = -0.01;
                level_ = target + (level_ - target) * releaseCoef_;
                if (level_ <= 0.0) { level_ = 0.0; stage_ = Idle; }
                break;
            }
            case Kill:
                level_ -= killInc_;
                if (level_ <= 0.0) { level_ = 0.0; stage_ = Idle; }
                break;
        }
        return level_;
    }

private:
    // one-pole coefficient that covers a 101:1 range (target 1 % past the end) in `samples`
    static double segmentCoef(double samples) {
        samples = std::max(1.0, samples);
        return std::exp(-std::log(101.0) / samples);
    }
    Stage stage_ = Idle;
    double level_ = 0.0;
    double attackInc_ = 1.0, decayCoef_ = 0.0, releaseCoef_ = 0.0, killInc_ = 1.0;
    float sustain_ = 1.0f;
};

}  // namespace synth
}  // namespace nscore
