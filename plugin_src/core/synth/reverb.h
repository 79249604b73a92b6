// Stereo reverb: an 8-line feedback delay network with a Householder mixing matrix, a
// one-pole damping low-pass in each line and per-line gains set from the wanted decay time.
// Mono in, stereo out (even lines to the left, odd lines to the right). Delay memory is
// sized in prepare() for the largest room; nothing allocates while processing.
#pragma once

#include <algorithm>
#include <cmath>
#include <vector>

namespace nscore {
namespace synth {

class Reverb {
public:
    static constexpr int kLines = 8;

    void prepare(double sampleRate) {
        sr_ = sampleRate;
        const int maxLen = (int)std::ceil(kBaseMs[kLines - 1] * 1e-3 * kMaxScale * sampleRate) + 2;
        for (auto& l : lines_) l.buf.assign((size_t)maxLen, 0.0f);
        configured_ = false;
        clear();
    }

    void clear() {
        for (auto& l : lines_) {
            std::fill(l.buf.begin(), l.buf.end(), 0.0f);
            l.pos = 0;
            l.lp = 0.0f;
        }
    }

    // Decay time (-60 dB) in seconds for a room size 0..1.
    static float rt60(float size) { return 0.25f + 7.75f * size * size; }

    // size 0..1 (room scale and decay time), damping 0..1 (high-frequency loss per pass)
    void configure(float size, float damping) {
        if (configured_ && size == size_ && damping == damping_) return;
        configured_ = true;
        size_ = size;
        damping_ = damping;
        const double scale = 0.35 + (kMaxScale - 0.35) * size;
        const double rt60 = Reverb::rt60(size);
        for (int i = 0; i < kLines; ++i) {
            Line& l = lines_[i];
            l.len = std::max(1, std::min((int)l.buf.size() - 1, (int)std::lround(kBaseMs[i] * 1e-3 * scale * sr_)));
            l.gain = (float)std::pow(10.0, -3.0 * l.len / (rt60 * sr_));
        }
        damp_ = 0.05f + 0.9f * damping;  // low-pass pole
    }

    // out[ch][t] = wet signal only
    void process(const float* in, float* outL, float* outR, int n) {
        for (int t = 0; t < n; ++t) {
            float y[kLines];
            float sum = 0.0f;
            for (int i = 0; i < kLines; ++i) {
                Line& l = lines_[i];
                int rd = l.pos - l.len;
                if (rd < 0) rd += (int)l.buf.size();
                float v = l.buf[(size_t)rd];
                l.lp = v + damp_ * (l.lp - v);  // damping
                y[i] = l.lp * l.gain;
                sum += y[i];
            }
            const float h = sum * (2.0f / kLines);  // Householder: y - 2/N (1 1^T) y
            const float x = in[t] * 0.25f;
            float L = 0.0f, R = 0.0f;
            for (int i = 0; i < kLines; ++i) {
                Line& l = lines_[i];
                l.buf[(size_t)l.pos] = y[i] - h + x;
                if (++l.pos == (int)l.buf.size()) l.pos = 0;
                if (i & 1) R += (i & 2) ? -y[i] : y[i];
                else L += (i & 2) ? -y[i] : y[i];
            }
            outL[t] = L * 0.5f;
            outR[t] = R * 0.5f;
        }
    }

private:
    struct Line {
        std::vector<float> buf;
        int pos = 0, len = 1;
        float gain = 0.0f, lp = 0.0f;
    };
    static constexpr double kMaxScale = 1.6;
    static constexpr double kBaseMs[kLines] = {29.7, 37.1, 41.1, 43.7, 53.3, 59.9, 67.1, 73.7};
    Line lines_[kLines];
    double sr_ = 48000.0;
    float size_ = -1.0f, damping_ = -1.0f, damp_ = 0.5f;
    bool configured_ = false;
};

}  // namespace synth
}  // namespace nscore
