// Band-limited morphing wavetables.
//
// A bank holds kFrames single-cycle waveforms (the morph axis) and, for each, kLevels copies
// with fewer and fewer harmonics: level k keeps harmonics 1..H(k), H(k) = floor(1024 * 2^(-k/2)),
// i.e. two levels per octave. The oscillator picks, per sample, the level whose highest
// harmonic stays below Nyquist for the current pitch, so nothing aliases; the tables are built
// by inverse FFT from harmonic amplitudes (sine phase, so every frame starts at 0 and a note
// starts without a step). Tables are built once per process (about 1.4 MB, shared by every
// instance) outside the audio thread.
#pragma once

#include <cmath>
#include <complex>
#include <vector>

namespace nscore {
namespace synth {

class WavetableBank {
public:
    static constexpr int kSize = 2048;   // samples per cycle (power of two)
    static constexpr int kFrames = 8;    // sine, triangle, saw, square, pulse 25 %, pulse 10 %, organ, vocal
                                         // (pulses: the pulse magnitude spectrum in sine phase)
    static constexpr int kLevels = 21;   // 1024 harmonics down to 1
    static constexpr int kMaxHarmonic = kSize / 2;

    static const WavetableBank& instance() {
        static const WavetableBank bank;  // thread-safe one-time initialisation
        return bank;
    }

    static int harmonicsAt(int level) {
        int h = (int)std::floor(1024.0 * std::pow(2.0, -0.5 * level) + 1e-9);
        return h < 1 ? 1 : h;
    }

    // Level for a phase increment (cycles per sample): the first level whose top harmonic
    // h satisfies h * inc <= 0.5.
    int levelFor(double inc) const {
        if (inc <= 0.5 / kMaxHarmonic) return 0;
        double x = 2.0 * std::log2(2.0 * kMaxHarmonic * inc);
        int k = (int)std::ceil(x - 1e-12);
        if (k < 0) k = 0;
        while (k < kLevels - 1 && harmonics_[k] * inc > 0.5) ++k;  // guards the floor() in H(k)
        if (k > kLevels - 1) k = kLevels - 1;
        return k;
    }

    // One table: kSize + 1 samples (the last repeats the first, for interpolation).
    const float* table(int frame, int level) const {
        return data_.data() + ((size_t)frame * kLevels + level) * (kSize + 1);
    }

    // Linear interpolation at phase in [0, 1).
    static float read(const float* t, double phase) {
        double x = phase * kSize;
        int i = (int)x;
        float f = (float)(x - i);
        i &= kSize - 1;
        return t[i] + f * (t[i + 1] - t[i]);
    }

private:
    std::vector<float> data_;
    int harmonics_[kLevels];

    WavetableBank() : data_((size_t)kFrames * kLevels * (kSize + 1)) {
        for (int k = 0; k < kLevels; ++k) harmonics_[k] = harmonicsAt(k);
        std::vector<double> amp(kMaxHarmonic + 1);
        std::vector<std::complex<double>> spec(kSize);
        std::vector<double> wave(kSize);
        for (int f = 0; f < kFrames; ++f) {
            harmonicAmplitudes(f, amp);
            double scale = 0.0;
            for (int k = 0; k < kLevels; ++k) {
                // x[n] = sum_h a_h sin(2 pi h n / N): X[h] = -i a_h N / 2, X[N-h] = conj.
                std::fill(spec.begin(), spec.end(), std::complex<double>(0.0, 0.0));
                for (int h = 1; h <= harmonics_[k] && h < kSize / 2; ++h) {
                    spec[h] = std::complex<double>(0.0, -0.5 * amp[h]);
                    spec[kSize - h] = std::complex<double>(0.0, 0.5 * amp[h]);
                }
                if (harmonics_[k] >= kSize / 2) spec[kSize / 2] = 0.0;
                inverseFft(spec);
                for (int n = 0; n < kSize; ++n) wave[n] = spec[n].real();
                if (k == 0) {  // one scale per frame (from the fullest level) so levels match in loudness
                    double peak = 0.0;
                    for (double v : wave) peak = std::max(peak, std::abs(v));
                    scale = peak > 0.0 ? 1.0 / peak : 1.0;
                }
                float* t = data_.data() + ((size_t)f * kLevels + k) * (kSize + 1);
                for (int n = 0; n < kSize; ++n) t[n] = (float)(wave[n] * scale);
                t[kSize] = t[0];
            }
        }
    }

    static void harmonicAmplitudes(int frame, std::vector<double>& a) {
        const double pi = 3.14159265358979323846;
        std::fill(a.begin(), a.end(), 0.0);
        for (int h = 1; h <= kMaxHarmonic; ++h) {
            double v = 0.0;
            switch (frame) {
                case 0: v = h == 1 ? 1.0 : 0.0; break;                                      // sine
                case 1: v = (h % 2) ? ((((h - 1) / 2) % 2) ? -1.0 : 1.0) / (double(h) * h) : 0.0; break;  // triangle
                case 2: v = 1.0 / h; break;                                                 // saw
                case 3: v = (h % 2) ? 1.0 / h : 0.0; break;                                 // square
                case 4: v = std::sin(pi * h * 0.25) / h; break;                             // pulse, 25 % duty
                case 5: v = std::sin(pi * h * 0.10) / h; break;                             // pulse, 10 % duty
                case 6: {                                                                   // organ drawbars
                    static const int bars[] = {1, 2, 3, 4, 6, 8};
                    static const double lv[] = {1.0, 0.8, 0.6, 0.5, 0.35, 0.3};
                    for (int i = 0; i < 6; ++i)
                        if (h == bars[i]) v = lv[i];
                    break;
                }
                case 7: {  // vocal-like: a saw spectrum shaped by three resonances (in harmonic number)
                    auto peak = [&](double c, double w) { double d = (h - c) / w; return std::exp(-0.5 * d * d); };
                    v = (1.0 / h) * (0.15 + peak(3.0, 1.2) + 0.8 * peak(7.0, 1.8) + 0.5 * peak(15.0, 3.0));
                    break;
                }
                default: break;
            }
            a[h] = v;
        }
    }

    // In-place inverse DFT (radix-2, unnormalised sign convention e^{+i}), size kSize.
    static void inverseFft(std::vector<std::complex<double>>& x) {
        const int n = (int)x.size();
        for (int i = 1, j = 0; i < n; ++i) {
            int bit = n >> 1;
            for (; j & bit; bit >>= 1) j ^= bit;
            j ^= bit;
            if (i < j) std::swap(x[i], x[j]);
        }
        const double pi = 3.14159265358979323846;
        for (int len = 2; len <= n; len <<= 1) {
            const double ang = 2.0 * pi / len;
            for (int i = 0; i < n; i += len)
                for (int k = 0; k < len / 2; ++k) {
                    std::complex<double> w(std::cos(ang * k), std::sin(ang * k));
                    std::complex<double> u = x[i + k], v = x[i + k + len / 2] * w;
                    x[i + k] = u + v;
                    x[i + k + len / 2] = u - v;
                }
        }
    }
};

}  // namespace synth
}  // namespace nscore
