// neuralsynth core: shared definitions.
// The core is header-only C++17. It knows nothing of JUCE or Python; the plugins
// and the C bridge are thin shells over it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <new>
#include <stdexcept>
#include <string>
#include <vector>

namespace nscore {

// Error raised while *loading* a model (never on the audio thread).
// `code` says what kind of problem; the message names the file, the field and
// what was expected versus found.
enum class ErrorCode : int {
    Ok = 0,
    Io = 1,           // file missing or unreadable
    Parse = 2,        // not valid JSON
    Format = 3,       // a field is missing, has the wrong type, or does not fit the architecture
    Unsupported = 4,  // unknown architecture / layer / version
    Limit = 5,        // absurd sizes
    Argument = 6,     // bad argument to an API call
    Memory = 7,       // allocation failed
    Internal = 8,
};

class ModelError : public std::runtime_error {
public:
    ModelError(ErrorCode c, const std::string& msg) : std::runtime_error(msg), code(c) {}
    ErrorCode code;
};

// Hard limits that protect against absurd (hostile or corrupt) files before
// anything large is allocated.
struct Limits {
    static constexpr int maxChannels = 4096;       // units / channels of one layer
    static constexpr int maxKernel = 4096;         // conv kernel size
    static constexpr int maxDilation = 1 << 20;
    static constexpr int maxLayers = 4096;
    static constexpr int maxInputs = 64;
    static constexpr long long maxWeights = 64LL << 20;     // 64 M parameters
    static constexpr long long maxHistory = 1LL << 22;      // samples of conv history per layer
    static constexpr long long maxStateFloats = 256LL << 20; // 1 GiB of float state in total
    static constexpr int maxBlockSize = 1 << 20;
};

// Allocates on 64-byte boundaries: a cache line, and the width of an AVX-512
// vector, so that no weight or state vector load straddles two lines (with the
// 16 bytes malloc promises, three in four 512-bit loads of a matrix would, and
// how fast a model ran depended on where its weights happened to land).
template <class T>
struct CacheAlignedAllocator {
    using value_type = T;
    static constexpr std::size_t kAlign = 64;
    CacheAlignedAllocator() noexcept = default;
    template <class U>
    CacheAlignedAllocator(const CacheAlignedAllocator<U>&) noexcept {}
    T* allocate(std::size_t n) {
        if (n > static_cast<std::size_t>(-1) / sizeof(T)) throw std::bad_alloc();
#if defined(__APPLE__)
        // Aligned operator new needs macOS 10.13+ at run time; plugins may target older.
        void* p = nullptr;
        if (posix_memalign(&p, kAlign, n * sizeof(T) ? n * sizeof(T) : 1) != 0) throw std::bad_alloc();
        return static_cast<T*>(p);
#else
        return static_cast<T*>(::operator new(n * sizeof(T), std::align_val_t(kAlign)));
#endif
    }
    void deallocate(T* p, std::size_t) noexcept {
#if defined(__APPLE__)
        std::free(p);
#else
        ::operator delete(p, std::align_val_t(kAlign));
#endif
    }
    template <class U>
    bool operator==(const CacheAlignedAllocator<U>&) const noexcept { return true; }
    template <class U>
    bool operator!=(const CacheAlignedAllocator<U>&) const noexcept { return false; }
};

// A float buffer that is sized in prepare() and never reallocated on the audio
// thread, cache-line aligned.
using Buffer = std::vector<float, CacheAlignedAllocator<float>>;

}  // namespace nscore
