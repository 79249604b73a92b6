// Run-time layer interface. A layer maps an in x N block to an out x N block
// (column-major, column t = time step t). forward() never allocates: every
// buffer is sized in prepare().
#pragma once

#include "../common.h"

namespace nscore {

class Layer {
public:
    Layer(int in, int out) : in_(in), out_(out) {}
    virtual ~Layer() = default;

    int inSize() const { return in_; }
    int outSize() const { return out_; }

    virtual const char* kind() const = 0;
    virtual void prepare(int /*maxBlock*/) {}
    virtual void reset() noexcept {}
    // X: in x N (ld = in), Y: out x N (ld = out); X and Y never alias.
    virtual void forward(const float* X, float* Y, int N) noexcept = 0;

    virtual long long numWeights() const = 0;
    virtual long long macsPerSample() const = 0;
    // Samples of past input this layer looks at, including the current one.
    virtual int receptiveField() const { return 1; }
    virtual bool recurrent() const { return false; }
    // Floats of state and scratch allocated by prepare().
    virtual size_t stateFloats() const { return 0; }

protected:
    int in_, out_;
};

}  // namespace nscore
