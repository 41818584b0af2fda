#include "core/common/event_loops.hpp"

#include <algorithm>
#include <thread>

#include "core/common/platform.hpp"

namespace tlsbroker::core {

namespace {
// Windows: one I/O completion port served by every thread, the model IOCP is made for (the
// port hands each completion to a waiting thread, most recently active first, with no
// reactor to interrupt). See event_loops.hpp for why POSIX has one loop per thread.
constexpr bool one_loop_for_all_threads = on_windows;
}  // namespace

event_loops::event_loops(std::size_t threads) : threads_(std::max<std::size_t>(threads, 1)) {
    const auto n = one_loop_for_all_threads ? 1 : threads_;
    for (std::size_t i = 0; i < n; ++i) {
        // The concurrency hint: how many threads run this loop.
        loops_.push_back(std::make_unique<boost::asio::io_context>(static_cast<int>(threads_ / n)));
        idle_.push_back(boost::asio::make_work_guard(*loops_.back()));
    }
}

boost::asio::io_context& event_loops::next() {
    return *loops_[next_.fetch_add(1, std::memory_order_relaxed) % loops_.size()];
}

void event_loops::run(const std::function<void(boost::asio::io_context&)>& guard) {
    std::vector<std::thread> threads;
    const auto per_loop = threads_ / loops_.size();
    for (std::size_t t = 1; t < threads_; ++t) {
        auto& loop = *loops_[(t / per_loop) % loops_.size()];
        threads.emplace_back([&loop, &guard] { guard(loop); });
    }
    guard(*loops_.front());
    for (auto& t : threads) t.join();
}

void event_loops::stop() {
    for (auto& l : loops_) l->stop();
}

}  // namespace tlsbroker::core
