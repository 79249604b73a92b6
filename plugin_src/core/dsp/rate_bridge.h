// Runs a model at its own sample rate inside a host running at another rate, for
// one channel: host -> soxr (host to model rate) -> model -> soxr (back) -> FIFO -> host.
//
// The FIFO starts with `latency()` samples of silence, enough that every host block
// can be served in full; the effect chain (core/effect/chain.h) reports that latency and
// delays its dry path by the same amount. soxr allocates in soxr_create (its FIFOs start at 16k samples);
// processing blocks up to the prepared maximum does not allocate (tests/cpp/alloc_test
// checks this). There is no reset on the audio thread: soxr_clear re-initialises, so
// a fresh state means prepare() again.
#pragma once

#include <soxr.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>
#include <vector>

namespace nscore {

class RateBridge {
public:
    RateBridge() = default;
    RateBridge(const RateBridge&) = delete;
    RateBridge& operator=(const RateBridge&) = delete;
    ~RateBridge() { destroy(); }

    // Allocates. Returns false with a message on failure.
    bool prepare(double hostRate, double modelRate, int maxBlock, std::string& error) {
        destroy();
        hostRate_ = hostRate;
        modelRate_ = modelRate;
        maxBlock_ = std::max(1, maxBlock);
        const soxr_io_spec_t io = soxr_io_spec(SOXR_FLOAT32_I, SOXR_FLOAT32_I);
        const soxr_quality_spec_t q = soxr_quality_spec(SOXR_HQ, 0);
        if (!create(io, q, error)) return false;
        const double ratio = modelRate / hostRate;
        modelCap_ = (int)std::ceil(maxBlock_ * ratio) + 256;
        upBuf_.assign((size_t)modelCap_, 0.0f);
        modelOut_.assign((size_t)modelCap_, 0.0f);
        downBuf_.assign((size_t)std::ceil(modelCap_ * hostRate / modelRate) + 256, 0.0f);
        // Measure how far the chain's output trails its input (an identity model), with
        // single samples and with maximum blocks; the worst deficit is the latency. Then
        // start again from fresh resamplers.
        // The deficit wanders with soxr's internal block processing: measure over several
        // seconds so its worst case is seen (a few ms of CPU, at prepare time).
        const int span = (int)std::max<double>(8.0 * maxBlock_, 5.0 * hostRate);
        latency_ = std::max(measureDeficit(1, std::min(span, 48000)), measureDeficit(maxBlock_, span)) + 16;
        destroy();
        if (!create(io, q, error)) return false;
        latency_ = std::max(latency_, measureDeficit(std::max(1, maxBlock_ / 3), span) + 16);
        destroy();
        if (!create(io, q, error)) return false;
        // soxr sets itself up on its first process call (it allocates then): run silence
        // through both resamplers now, off the audio thread. The chain then trails its
        // input by d0 samples; the FIFO starts with latency - d0 samples of silence so
        // that output sample t is the chain's response to input sample t - latency.
        // The pre-roll spans a whole number of rate-ratio periods (147 samples for 44.1 <->
        // 48 kHz), so the model-rate sample grid starts exactly at the signal's first
        // sample, as a fresh one-shot resampling of the signal would.
        const long long hr = std::llround(hostRate), mr = std::llround(modelRate);
        long long unit = 1;
        if (std::fabs(hr - hostRate) < 1e-9 && std::fabs(mr - modelRate) < 1e-9) unit = hr / std::gcd(hr, mr);
        const long long want = std::max<long long>(8192, 4LL * maxBlock_) + 2048;
        const int preroll = (int)(((want + unit - 1) / unit) * unit);
        // (Single samples too: soxr sets up another path for those.)
        const int d0 = measureDeficit(1, 2048, /*last=*/true) + measureDeficit(maxBlock_, preroll - 2048, /*last=*/true);
        if (d0 > latency_) latency_ = d0;
        fifo_.assign((size_t)(latency_ + 2 * maxBlock_ + 512), 0.0f);
        head_ = 0;
        count_ = latency_ - d0;
        return true;
    }

    int latency() const { return latency_; }
    bool active() const { return up_ != nullptr; }

    // model(in, out, m): processes m model-rate samples. n <= maxBlock.
    template <typename Model>
    void process(const float* in, float* out, int n, Model&& model) noexcept {
        size_t idone = 0, odone = 0;
        soxr_process(up_, in, (size_t)n, &idone, upBuf_.data(), (size_t)modelCap_, &odone);
        const int m = (int)odone;
        if (m > 0) model(upBuf_.data(), modelOut_.data(), m);
        // Feed all of it: soxr may take only part of the input when its output fills up.
        for (int fed = 0; fed < m;) {
            size_t idone2 = 0, odone2 = 0;
            soxr_process(down_, modelOut_.data() + fed, (size_t)(m - fed), &idone2, downBuf_.data(), downBuf_.size(),
                         &odone2);
            push(downBuf_.data(), (int)odone2);
            fed += (int)idone2;
            if (idone2 == 0 && odone2 == 0) break;
        }
        pop(out, n);
    }

private:
    bool create(const soxr_io_spec_t& io, const soxr_quality_spec_t& q, std::string& error) {
        soxr_error_t e = nullptr;
        // Small DFT blocks: soxr's default (up to 2^17) makes integer ratios such as 96 -> 48 kHz
        // deliver output in bursts seconds apart, which would become latency here.
        soxr_runtime_spec_t rt = soxr_runtime_spec(1);
        rt.log2_min_dft_size = 8;
        rt.log2_large_dft_size = 10;
        up_ = soxr_create(hostRate_, modelRate_, 1, &e, &io, &q, &rt);
        if (!e) down_ = soxr_create(modelRate_, hostRate_, 1, &e, &io, &q, &rt);
        if (e) {
            error = std::string("soxr: ") + e;
            destroy();
            return false;
        }
        return true;
    }
    int measureDeficit(int block, int total, bool last = false) {
        const size_t midCap = (size_t)std::ceil(block * modelRate_ / hostRate_) + 256;
        std::vector<float> in((size_t)block, 0.0f), mid(midCap),
            out((size_t)std::ceil(midCap * hostRate_ / modelRate_) + 256);
        long long fed = 0, produced = 0, worst = 0;
        for (int done = 0; done < total; done += block) {
            const int k = std::min(block, total - done);
            size_t i1 = 0, o1 = 0, i2 = 0, o2 = 0;
            soxr_process(up_, in.data(), (size_t)k, &i1, mid.data(), mid.size(), &o1);
            for (size_t used = 0; used < o1;) {
                soxr_process(down_, mid.data() + used, o1 - used, &i2, out.data(), out.size(), &o2);
                produced += (long long)o2;
                used += i2;
                if (i2 == 0 && o2 == 0) break;
            }
            fed += k;
            worst = std::max(worst, fed - produced);
        }
        return (int)(last ? fed - produced : worst);
    }
    void push(const float* x, int k) noexcept {
        const int cap = (int)fifo_.size();
        for (int i = 0; i < k && count_ < cap; ++i) {
            fifo_[(size_t)((head_ + count_) % cap)] = x[i];
            ++count_;
        }
    }
    void pop(float* out, int n) noexcept {
        const int cap = (int)fifo_.size();
        for (int i = 0; i < n; ++i) {
            if (count_ > 0) {
                out[i] = fifo_[(size_t)head_];
                head_ = (head_ + 1) % cap;
                --count_;
            } else {
                out[i] = 0.0f;  // cannot happen with the measured latency; never read garbage
            }
        }
    }
    void destroy() {
        if (up_) soxr_delete(up_);
        if (down_) soxr_delete(down_);
        up_ = down_ = nullptr;
    }

    soxr_t up_ = nullptr, down_ = nullptr;
    double hostRate_ = 0, modelRate_ = 0;
    int maxBlock_ = 1, modelCap_ = 0, latency_ = 0;
    std::vector<float> upBuf_, modelOut_, downBuf_, fifo_;
    int head_ = 0, count_ = 0;
};

}  // namespace nscore
