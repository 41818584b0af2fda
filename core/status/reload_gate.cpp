#include "core/status/reload_gate.hpp"

namespace tlsbroker::core {

std::optional<reload_gate::refusal> reload_gate::start(std::function<void()> job) {
    std::lock_guard lock(mutex_);
    if (closed_) return refusal::closed;
    if (running_) return refusal::busy;
    if (finished_ && std::chrono::steady_clock::now() - *finished_ < min_interval_) return refusal::too_soon;
    if (thread_.joinable()) thread_.join();  // the last one has finished
    running_ = true;
    thread_ = std::thread([this, job = std::move(job)] {
        job();
        std::lock_guard l(mutex_);
        running_ = false;
        finished_ = std::chrono::steady_clock::now();
    });
    return std::nullopt;
}

void reload_gate::close() {
    std::thread t;
    {
        std::lock_guard lock(mutex_);
        closed_ = true;
        if (!thread_.joinable()) return;
        if (thread_.get_id() == std::this_thread::get_id()) {
            thread_.detach();  // closed from the job itself: it ends right after
            return;
        }
        t = std::move(thread_);
    }
    t.join();
}

}  // namespace tlsbroker::core
