#include "core/event_loops.hpp"

#include <algorithm>
#include <thread>

namespace tlsbroker::core {

event_loops::event_loops(std::size_t threads) {
    const auto n = std::max<std::size_t>(threads, 1);
    for (std::size_t i = 0; i < n; ++i) {
        // One thread per loop: the hint lets Asio skip the scheduler's cross-thread wake-ups.
        loops_.push_back(std::make_unique<boost::asio::io_context>(1));
        idle_.push_back(boost::asio::make_work_guard(*loops_.back()));
    }
}

boost::asio::io_context& event_loops::next() {
    return *loops_[next_.fetch_add(1, std::memory_order_relaxed) % loops_.size()];
}

void event_loops::run(const std::function<void(boost::asio::io_context&)>& guard) {
    std::vector<std::thread> threads;
    for (std::size_t i = 1; i < loops_.size(); ++i)
        threads.emplace_back([this, i, &guard] { guard(*loops_[i]); });
    guard(*loops_.front());
    for (auto& t : threads) t.join();
}

void event_loops::stop() {
    for (auto& l : loops_) l->stop();
}

}  // namespace tlsbroker::core
