// The broker: one io_context run by N threads, the listeners, the status endpoint and
// graceful drain. The POSIX foreground mode and the Windows service drive the same object.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "core/common/counters.hpp"

namespace tlsbroker::core {

class histogram_block;

struct reload_result {
    bool ok = false;
    std::vector<std::string> errors;  // every problem, "pointer: reason"
    std::string summary;              // what changed, for logs and /status
};

class server {
public:
    explicit server(config::config_ptr cfg);
    ~server();
    server(const server&) = delete;
    server& operator=(const server&) = delete;

    // Creates TLS contexts, binds every listener and the status endpoint, and arms the
    // accepts. Throws std::runtime_error naming the listener and the reason on failure;
    // nothing is left bound then.
    void start();

    // Runs the event loop on effective_threads() threads (the caller is one of them) until
    // the broker has stopped. Returns the exit code: 0 after a graceful stop, non-zero when
    // the watchdog gave up on an accept path and the config says "exit".
    int run();

    // Thread-safe; may be called from a signal-watching thread or the SCM handler.
    // Stops accepting, lets live connections finish for up to timeouts.drain_ms, then closes
    // the rest; run() returns afterwards.
    void request_stop();

    // Called (from a worker thread) while draining, with the number of live connections,
    // at least once per second; the Windows service turns it into STOP_PENDING checkpoints.
    void on_drain_progress(std::function<void(std::size_t live)> cb);

    config::config_ptr current_config() const;

    // Thread-safe; never blocks on the event loop (callable from a handler). Reads and
    // validates the config file the running config came from (or `file`), then applies it
    // without dropping a live connection: listeners on the same endpoint take over the
    // listening socket (new certificates, backlog, limits apply to new connections), removed
    // listeners stop accepting and drain, added ones start. A bad config is rejected with
    // every error logged and the running config stays in force.
    reload_result reload(const std::filesystem::path& file = {});
    reload_result reload(config::config_ptr next);

    // Live sessions right now (all listeners).
    std::size_t live_sessions() const;

    // Bound endpoints (port 0 in the config is resolved here); valid after start().
    std::vector<boost::asio::ip::tcp::endpoint> listener_endpoints() const;
    boost::asio::ip::tcp::endpoint status_endpoint() const;

    // The counter blocks: one per listener in config order, and the total. Their addresses
    // stay fixed for the server's lifetime (the Windows perf provider holds on to them).
    const counter_block& total_counters() const;
    counter_block& total_counters();
    std::vector<std::pair<std::string, const counter_block*>> listener_counters() const;
    // The latency histograms of each listener, in config order (addresses as fixed as the
    // counter blocks'; the Windows perf provider averages them).
    std::vector<std::pair<std::string, const histogram_block*>> listener_histograms() const;

    // The listener objects, in config order (tests reach the fault seam through them).
    std::shared_ptr<class listener> listener_at(std::size_t index) const;
    // Runs `fn` on the event loop.
    void post(std::function<void()> fn);
    // Health as the watchdog sees it ("" reason when healthy).
    bool healthy() const;

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

}  // namespace tlsbroker::core
