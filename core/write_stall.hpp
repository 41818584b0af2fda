// When a peer counts as having stopped reading: the rule behind timeouts.write_stall_ms, one
// per direction of a session, kept apart from the relay so that it can be tested alone.
//
// A stall begins when a write to the peer first has to wait. It ends when
//   - the peer has taken everything the broker had for it (the source had nothing more), or
//   - the peer has taken at least `progress_bytes` since the stall began.
// Nothing less ends it. A trickle (a few KB a second) does not, and neither does the room a
// receiver that stopped reading opens now and then: Linux compacts such a receive queue and
// reopens the window by some tens of KB, which the sender's zero-window probes find seconds
// later, so a stall that every such burst restarted would be reaped seconds late.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>

namespace tlsbroker::core {

class write_stall {
public:
    using clock = std::chrono::steady_clock;

    // progress_bytes: at least one relay buffer; the listener passes max(its socket buffer
    // size, the relay buffer size).
    explicit write_stall(std::size_t progress_bytes) : progress_bytes_(progress_bytes) {}

    // A write to the peer has to wait. Returns true when this begins a stall.
    bool blocked(clock::time_point now) {
        if (since_ != clock::time_point::max()) return false;
        since_ = now;
        taken_ = 0;
        return true;
    }
    // The peer took `bytes`.
    void took(std::size_t bytes) {
        if (since_ == clock::time_point::max()) return;
        taken_ += bytes;
        if (taken_ >= progress_bytes_) clear();
    }
    // The peer has everything the broker had for it.
    void drained() { clear(); }

    bool stalled() const { return since_ != clock::time_point::max(); }
    // When the stall began (time_point::max() when there is none).
    clock::time_point since() const { return since_; }

private:
    void clear() {
        since_ = clock::time_point::max();
        taken_ = 0;
    }

    std::size_t progress_bytes_;
    clock::time_point since_ = clock::time_point::max();
    std::size_t taken_ = 0;
};

}  // namespace tlsbroker::core
