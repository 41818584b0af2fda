#include "core/health/event_loop_monitor.hpp"

#include <boost/asio/post.hpp>

#include "core/common/log.hpp"

namespace tlsbroker::core {

namespace {
std::int64_t now_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
}
}  // namespace

event_loop_monitor::event_loop_monitor(boost::asio::io_context& ioc, std::chrono::milliseconds bound,
                                       counter_block& total)
    : ioc_(ioc), bound_(bound), total_(total) {}

event_loop_monitor::~event_loop_monitor() { stop(); }

void event_loop_monitor::start() {
    thread_ = std::thread([this] { loop(); });
}

void event_loop_monitor::stop() {
    {
        std::lock_guard lock(mutex_);
        stop_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
}

void event_loop_monitor::loop() {
    const auto tick = std::max(std::chrono::milliseconds(5), bound_ / 4);
    std::unique_lock lock(mutex_);
    while (!cv_.wait_for(lock, tick, [this] { return stop_; })) {
        const auto posted = posted_ns_->load();
        if (posted == 0) {
            reported_ = false;
            posted_ns_->store(now_ns());
            boost::asio::post(ioc_, [slot = posted_ns_, bound = bound_, &total = total_] {
                const auto p = slot->exchange(0);
                const auto waited =
                    std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::nanoseconds(now_ns() - p));
                if (waited > bound) {
                    total.raise_to(counter::event_loop_max_block_ms, static_cast<std::uint64_t>(waited.count()));
                    log::limited(
                        log::level::error, "event-loop-blocked-end",
                        log::str("event loop was blocked for ", waited.count(), " ms (bound ", bound.count(), " ms)"));
                }
            });
            continue;
        }
        const auto waited =
            std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::nanoseconds(now_ns() - posted));
        if (waited > bound_ && !reported_) {
            reported_ = true;
            total_.add(counter::event_loop_stalls);
            log::limited(log::level::error, "event-loop-blocked",
                         log::str("event loop blocked: a heartbeat has waited ", waited.count(), " ms (bound ",
                                  bound_.count(), " ms); a handler is blocking every worker"));
        }
    }
}

}  // namespace tlsbroker::core
