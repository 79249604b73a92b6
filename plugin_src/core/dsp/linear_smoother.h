// A linear parameter ramp: a new target is reached in a fixed number of samples, in equal steps,
// and landed on exactly. Same arithmetic as juce::SmoothedValue<float, Linear> (step computed once
// per new target in float, the last step lands on the target), so the effect chain behaves as the
// JUCE shell did before the chain moved into the core.
#pragma once

#include <cmath>

namespace nscore {

class LinearSmoother {
public:
    // Ramp length in samples = floor(seconds * sampleRate); keeps the current target.
    void reset(double sampleRate, double seconds) noexcept {
        steps_ = (int)std::floor(seconds * sampleRate);
        setCurrentAndTarget(target_);
    }
    void setCurrentAndTarget(float v) noexcept {
        target_ = current_ = v;
        countdown_ = 0;
    }
    void setTarget(float v) noexcept {
        if (v == target_) return;
        if (steps_ <= 0) {
            setCurrentAndTarget(v);
            return;
        }
        target_ = v;
        countdown_ = steps_;
        step_ = (target_ - current_) / (float)countdown_;
    }
    float next() noexcept {
        if (countdown_ <= 0) return target_;
        --countdown_;
        if (countdown_ > 0)
            current_ += step_;
        else
            current_ = target_;
        return current_;
    }
    bool smoothing() const noexcept { return countdown_ > 0; }
    float target() const noexcept { return target_; }

private:
    float current_ = 0.0f, target_ = 0.0f, step_ = 0.0f;
    int steps_ = 0, countdown_ = 0;
};

}  // namespace nscore
