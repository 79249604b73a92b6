// First-order DC blocker: y[n] = x[n] - x[n-1] + R y[n-1], R = exp(-2 pi fc / fs).
// State in double so a long run of silence decays cleanly to zero.
#pragma once

#include <cmath>

namespace nscore {

class DcBlocker {
public:
    static constexpr double kCutoffHz = 5.0;
    void prepare(double sampleRate) {
        R_ = std::exp(-2.0 * M_PI * kCutoffHz / sampleRate);
        reset();
    }
    void reset() noexcept { x1_ = y1_ = 0.0; }
    void process(float* x, int n) noexcept {
        for (int i = 0; i < n; ++i) {
            const double xi = x[i];
            double y = xi - x1_ + R_ * y1_;
            if (std::fabs(y) < 1e-30) y = 0.0;  // no denormals in the feedback
            x1_ = xi;
            y1_ = y;
            x[i] = (float)y;
        }
    }
    double coefficient() const { return R_; }

private:
    double R_ = 0.0, x1_ = 0.0, y1_ = 0.0;
};

}  // namespace nscore
