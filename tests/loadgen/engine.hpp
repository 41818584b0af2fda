// Worker threads: one io_context per thread; a run ends when all work is done or at its
// deadline, whichever comes first.
#pragma once

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <memory>
#include <vector>

namespace loadgen {

namespace net = boost::asio;
using clock_type = std::chrono::steady_clock;

class engine {
public:
    explicit engine(std::size_t threads);
    ~engine();
    std::size_t size() const { return ctx_.size(); }
    net::io_context& ctx(std::size_t i) { return *ctx_[i % ctx_.size()]; }
    // Runs every context on its own thread and joins them; after `max_seconds` the contexts
    // are stopped whatever is left (returns false then). An engine runs once: what a
    // stopped run left behind refers to the finished mode's state.
    bool run(double max_seconds);
    void stop();  // thread-safe

private:
    std::vector<std::unique_ptr<net::io_context>> ctx_;
};

// Seconds since `t`.
inline double since(clock_type::time_point t) { return std::chrono::duration<double>(clock_type::now() - t).count(); }

// A time `seconds` from now.
inline clock_type::time_point after(double seconds) {
    return clock_type::now() + std::chrono::duration_cast<clock_type::duration>(std::chrono::duration<double>(seconds));
}

// Raises RLIMIT_NOFILE soft to hard; returns the new soft limit (-1 when unknown).
long raise_fd_limit();

}  // namespace loadgen
