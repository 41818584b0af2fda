// WATCHDOG=1 for systemd's WatchdogSec=, from the broker's own event loop: every `period`
// (half of $WATCHDOG_USEC) a timer on the caller's io_context posts one check to the broker;
// the check runs on a broker worker and sends WATCHDOG=1 unless the accept-path watchdog has
// given a path up as unrecoverable (its `healthy` gauge is 0). So systemd restarts a broker
// whose event loop is wedged (the check never runs; at most one is ever queued) or whose
// accept path is stalled for good (the check withholds the heartbeat, says so in the log and
// in STATUS=). Transient trouble (out of descriptors for a while, overload) keeps the
// heartbeat going: restarting would only drop the live connections.
#pragma once

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>

#include "core/common/counters.hpp"
#include "service/posix/sd_notify.hpp"

namespace tlsbroker::service {

enum class heartbeat_verdict {
    send,                    // WATCHDOG=1
    withhold_unrecoverable,  // an accept path is stalled for good: let systemd restart the broker
};

// The decision, from the broker's total counters.
heartbeat_verdict decide_heartbeat(const core::counter_block& total);

class systemd_heartbeat {
public:
    // Runs `fn` on the broker's event loop (core::server::post).
    using poster = std::function<void(std::function<void()>)>;

    // `total` and `notifier` must outlive every check posted (the server's counters, and a
    // notifier declared before the server).
    systemd_heartbeat(boost::asio::io_context& timer_ioc, std::chrono::microseconds period, poster post_to_broker,
                      core::counter_block& total, sd_notifier& notifier);
    ~systemd_heartbeat();
    systemd_heartbeat(const systemd_heartbeat&) = delete;
    systemd_heartbeat& operator=(const systemd_heartbeat&) = delete;

    void start();
    void stop();  // on timer_ioc's thread, or before it runs

    // Checks that ran on the broker, and heartbeats sent / withheld (tests, STATUS=).
    std::uint64_t checks() const;
    std::uint64_t sent() const;
    std::uint64_t withheld() const;

private:
    struct shared;
    void arm();

    boost::asio::steady_timer timer_;
    std::chrono::microseconds period_;
    poster post_;
    std::shared_ptr<shared> shared_;
};

}  // namespace tlsbroker::service
