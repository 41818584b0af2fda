// Runs reloads one at a time on a thread of its own, at most one per interval, so that a
// reload (reading files, building TLS contexts) never runs on an I/O thread and a flood of
// requests cannot queue reload after reload.
#pragma once

#include <chrono>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>

namespace tlsbroker::core {

class reload_gate {
public:
    enum class refusal { busy, too_soon, closed };

    explicit reload_gate(std::chrono::milliseconds min_interval) : min_interval_(min_interval) {}
    ~reload_gate() { close(); }
    reload_gate(const reload_gate&) = delete;
    reload_gate& operator=(const reload_gate&) = delete;

    // Starts `job` on the gate's thread, or says why not: one is running, the last one
    // finished less than the interval ago, or the gate is closed.
    std::optional<refusal> start(std::function<void()> job);

    // Takes no more jobs and waits for the one running (unless called from it).
    void close();

private:
    const std::chrono::milliseconds min_interval_;
    std::mutex mutex_;
    std::thread thread_;
    bool running_ = false;
    bool closed_ = false;
    std::optional<std::chrono::steady_clock::time_point> finished_;
};

}  // namespace tlsbroker::core
