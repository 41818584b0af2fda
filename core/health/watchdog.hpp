// The accept-path watchdog: the mechanism. Per listener, every interval it reads the
// listener's state and its kernel accept queue; every probe interval it connects a canary to
// the listener and waits up to the probe timeout for the acceptor to take it. What each
// observation means and which recovery step follows (re-arm the accept, re-create the
// listening socket, give up: unhealthy, and the owner is told) is decided by the rules,
// a pure function over a table (watchdog_rules.hpp, shown in core/health/README.md); this
// class only observes, asks them, counts, logs and acts. Once stopped (a reload replaced
// it), nothing of a watchdog acts any more.
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
