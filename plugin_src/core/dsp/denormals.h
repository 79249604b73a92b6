// Flush-to-zero / denormals-are-zero for the duration of a scope, as plugin hosts and JUCE's
// ScopedNoDenormals set them on the audio thread. The bridge sets the same mode around its
// process calls, so Python runs the models and the synth with exactly the arithmetic the plugins
// use (a subnormal intermediate would otherwise round differently) and without the slow path
// subnormals take on x86.
#pragma once

#if defined(__SSE__) || defined(__x86_64__)
#include <xmmintrin.h>
#endif

namespace nscore {

class ScopedFlushDenormals {
public:
    ScopedFlushDenormals() noexcept {
#if defined(__SSE__) || defined(__x86_64__)
        saved_ = _mm_getcsr();
        _mm_setcsr(saved_ | 0x8040u);  // FTZ (bit 15) | DAZ (bit 6)
#elif defined(__aarch64__)
        asm volatile("mrs %0, fpcr" : "=r"(saved_));
        asm volatile("msr fpcr, %0" : : "r"(saved_ | (1ull << 24)));  // FZ
#endif
    }
    ~ScopedFlushDenormals() {
#if defined(__SSE__) || defined(__x86_64__)
        _mm_setcsr(saved_);
#elif defined(__aarch64__)
        asm volatile("msr fpcr, %0" : : "r"(saved_));
#endif
    }
    ScopedFlushDenormals(const ScopedFlushDenormals&) = delete;
    ScopedFlushDenormals& operator=(const ScopedFlushDenormals&) = delete;

private:
#if defined(__aarch64__)
    unsigned long long saved_ = 0;
#else
    unsigned int saved_ = 0;
#endif
};

}  // namespace nscore
