// Exponential back-off: 10 ms doubling to 1 s, reset on success.
#pragma once

#include <algorithm>
#include <chrono>

namespace tlsbroker::core {

class backoff {
public:
    using duration = std::chrono::milliseconds;
    explicit backoff(duration first = duration(10), duration max = duration(1000))
        : first_(first), max_(max), next_(first) {}

    // The delay to wait now; the following call returns twice as much, up to max.
    duration next() {
        const auto d = next_;
        next_ = std::min(max_, next_ * 2);
        return d;
    }
    void reset() { next_ = first_; }
    duration peek() const { return next_; }

private:
    duration first_;
    duration max_;
    duration next_;
};

}  // namespace tlsbroker::core
