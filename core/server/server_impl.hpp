// The server's private state, shared by server.cpp (lifecycle, views) and
// server_reload.cpp (applying a new config). Not part of the public interface.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>

#include "core/common/descriptor_budget.hpp"
#include "core/common/event_loops.hpp"
#include "core/health/cert_watch.hpp"
#include "core/health/watchdog.hpp"
#include "core/listener/listener.hpp"
#include "core/server/server.hpp"
#include "core/session/buffer_pool.hpp"
#include "core/status/metrics.hpp"
#include "core/status/status_server.hpp"

namespace tlsbroker::core {

// How long /healthz stays unhealthy after a socket could not be opened for lack of resources.
inline constexpr std::uint64_t resources_exhausted_unhealthy_ms = 10000;

struct server::impl {
    explicit impl(config::config_ptr c);

    event_loops loops;             // declared first: destroyed last
    boost::asio::io_context& ioc;  // loops.control()
    buffer_pool pool;
    counter_block total;

    mutable std::mutex mu;  // guards everything below that reload() changes
    config::config_ptr cfg;
    // Counter blocks by listener name: kept for the server's lifetime so their addresses
    // stay valid for the Windows perf provider, and a reloaded listener keeps its counts.
    std::map<std::string, std::unique_ptr<counter_block>> blocks;
    // Histogram blocks by listener name, kept like the counter blocks.
    std::map<std::string, std::unique_ptr<histogram_block>> histograms;
    std::vector<std::shared_ptr<listener>> listeners;
    // Replaced or removed listeners whose own sessions are still open; each is freed once they
    // are gone (prune_retired, on retired_timer while any is left).
    std::vector<std::shared_ptr<listener>> retired;
    // One admission policy and one session registry per endpoint (by its listen text), kept
    // across reloads: the per-source limits and slots of a replaced listener's connections
    // still count for its successor.
    struct endpoint_shared {
        std::shared_ptr<endpoint_admission> admission;
        std::shared_ptr<connection_registry> registry;
    };
    std::map<std::string, endpoint_shared> endpoints;
    std::unique_ptr<watchdog> dog;
    nlohmann::json last_reload = nullptr;

    std::unique_ptr<status_server> status;
    std::unique_ptr<cert_watch> certs;  // changed TLS files, expiry (server_certs.cpp)
    // Listeners serving a certificate outside its validity period: name → why (from certs).
    std::map<std::string, std::string> degraded;
    boost::asio::steady_timer drain_timer{ioc};
    boost::asio::steady_timer retired_timer{ioc};
    boost::asio::steady_timer window_timer{ioc};  // the histograms' last-minute ring
    bool retired_timer_armed = false;             // with mu held
    std::function<void(std::size_t)> drain_progress;
    std::uint64_t started_ms = 0;
    descriptor_budget descriptors;  // with mu held
    bool stopping = false;          // on the io_context
    int exit_code = 0;

    counter_block& block_for(const std::string& name);
    histogram_block& histograms_for(const std::string& name);  // with mu held
    // Every histogram_block::window_step_ms: a snapshot into each block's ring (on ioc).
    void tick_windows();
    // The endpoint's shared state; `reuse` false (port 0, or a new endpoint) makes a fresh one.
    endpoint_shared endpoint_for(const config::listener_config& lc, bool reuse);
    std::shared_ptr<listener> make_listener(const config::config_ptr& c, std::size_t i, bool reuse);
    std::unique_ptr<watchdog> make_watchdog(server& owner);  // with mu held
    // Raises the descriptor limit to what `c` needs and logs it (with mu held).
    void fit_descriptors(const config::broker_config& c, bool at_start);
    // The watchdog's verdict, and unhealthy for a while after sockets could not be opened for
    // lack of resources: a broker refusing clients is not healthy (with mu held).
    health_state health() const;
    broker_view view() const;
    std::string backend_metrics() const;
    void start_status(server& owner);
    void start_cert_watch(server& owner);  // server_certs.cpp
    std::size_t live() const;
    // Frees the retired listeners that no longer serve a session of their own, and checks
    // again in a second while any is left (with mu held).
    void prune_retired();
    void begin_drain();
    void watch_drain(std::chrono::steady_clock::time_point hard_deadline,
                     std::chrono::steady_clock::time_point last_report);
};

}  // namespace tlsbroker::core
