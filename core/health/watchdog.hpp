// The accept-path watchdog. Per listener, every interval it checks the state invariant
// (accepting ⇒ an accept outstanding; backing off ⇒ a timer pending; paused ⇒ at the
// limit) and the kernel accept queue; every probe interval it connects a canary to the
// listener and expects the acceptor to take it within the probe timeout.
//
// A late canary is judged by the listener's accept count over the probe window: when
// accepts completed meanwhile (or the queue shrank), the canary only waited behind real
// clients: the probe is "slow" (overload), counted and logged, and nothing is done. Only a
// window with no accept at all while work waited (the canary, or a non-empty queue) is a
// stall, and only a stall climbs the recovery ladder: (1) cancel and re-arm the accept,
// (2) re-create the listening socket (keeping its queued connections), (3) unrecoverable:
// unhealthy, and the owner is told (it exits when so configured). Step 3 needs a ladder
// with no accept completed since step 1; a probe taken, or a slow one, resets the ladder.
// Once stopped (a reload replaced it), nothing of a watchdog acts any more.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "core/common/counters.hpp"
#include "core/health/event_loop_monitor.hpp"

namespace tlsbroker::core {

class listener;

struct health_state {
    bool healthy = true;
    std::string reason;
};

class watchdog {
public:
    watchdog(boost::asio::io_context& ioc, const config::watchdog_config& cfg,
             std::vector<std::shared_ptr<listener>> listeners, counter_block& total);
    ~watchdog();
    watchdog(const watchdog&) = delete;
    watchdog& operator=(const watchdog&) = delete;

    void start();
    void stop();  // thread-safe; pending probes and step timers are cancelled
    void join();  // after the io_context has stopped
    health_state health() const;
    void on_unrecoverable(std::function<void(const std::string& reason)> cb);

private:
    struct state;
    std::shared_ptr<state> state_;
    event_loop_monitor heartbeat_;
};

}  // namespace tlsbroker::core
