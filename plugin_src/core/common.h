// neuralsynth core: shared definitions.
// The core is header-only C++17. It knows nothing of JUCE or Python; the plugins
// and the C bridge are thin shells over it.
#pragma once

#include <cstddef>
#include <cstdint>
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

// A float buffer that is sized in prepare() and never reallocated on the audio
// thread. Thin wrapper so the intent is visible at use sites.
using Buffer = std::vector<float>;

}  // namespace nscore
