// A linear history buffer for causal convolutions: rows x (hist + capacity)
// floats, column-major. New blocks are written after the history; when the
// write position would run past the end, the last `hist` columns are copied to
// the front (amortised: one copy per `capacity` samples). Tap offsets into the
// past are then plain negative column offsets, so a whole block of a dilated
// convolution is one contiguous matrix product per tap.
#pragma once

#include <algorithm>
#include <cstring>

#include "../common.h"

namespace nscore {

class History {
public:
    void prepare(int rows, int hist, int maxBlock) {
        rows_ = rows;
        hist_ = hist;
        cap_ = std::max(maxBlock, std::max(2048, hist));
        data_.assign((size_t)rows_ * (hist_ + cap_), 0.0f);
        pos_ = hist_;
    }
    void reset() noexcept {
        std::fill(data_.begin(), data_.end(), 0.0f);
        pos_ = hist_;
    }
    // Fill the whole history with one column (the state after a constant input forever).
    void reset(const float* column) noexcept {
        for (size_t c = 0; c + rows_ <= data_.size(); c += rows_) std::memcpy(data_.data() + c, column, sizeof(float) * rows_);
        pos_ = hist_;
    }
    // Make room for N new columns (N <= capacity) and return column 0 of them.
    float* beginBlock(int N) noexcept {
        if (pos_ + N > hist_ + cap_) {
            if (hist_ > 0)
                std::memmove(data_.data(), data_.data() + (size_t)(pos_ - hist_) * rows_,
                             sizeof(float) * (size_t)hist_ * rows_);
            pos_ = hist_;
        }
        return data_.data() + (size_t)pos_ * rows_;
    }
    const float* current() const noexcept { return data_.data() + (size_t)pos_ * rows_; }
    float* current() noexcept { return data_.data() + (size_t)pos_ * rows_; }
    void advance(int N) noexcept { pos_ += N; }
    int rows() const { return rows_; }
    size_t floats() const { return data_.size(); }

private:
    int rows_ = 0, hist_ = 0, cap_ = 0, pos_ = 0;
    Buffer data_;
};

}  // namespace nscore
