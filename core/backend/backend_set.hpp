// A listener's backends: the order to try them in (ordered failover or round robin), and
// their health. A backend whose connects fail `fail_threshold` times in a row is marked
// down and skipped for `cooldown_ms` (or until a periodic TCP check reaches it); when every
// backend is down they are all tried anyway, because refusing a client helps nobody.
// Their addresses come from a backend_resolver: DNS names are looked up on a schedule, not
// per connection.
#pragma once

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "core/backend/backend_resolver.hpp"
#include "core/common/counters.hpp"

namespace tlsbroker::core {

struct backend_state {
    std::string address;
    bool up = true;
    std::uint64_t consecutive_failures = 0;
    std::uint64_t connects_ok = 0;
    std::uint64_t connects_failed = 0;
    std::uint64_t marked_down = 0;  // times it was marked down
};

class backend_set : public std::enable_shared_from_this<backend_set> {
public:
    using clock = std::chrono::steady_clock;
    // `ctr` (the listener's counters) counts failed name lookups; `resolve` is the lookup
    // schedule and, for tests, the lookup function.
    explicit backend_set(const config::listener_config& cfg, std::optional<counters> ctr = {},
                         backend_resolver::options resolve = {});

    std::size_t size() const { return backends_.size(); }
    const config::backend_config& at(std::size_t i) const { return backends_[i]; }
    // Indexes to try for one new connection, best first.
    std::vector<std::size_t> order();
    void report(std::size_t i, bool ok);
    std::vector<backend_state> snapshot() const;
    // Backend i's addresses (see backend_resolver::addresses). Thread-safe.
    backend_resolver::lookup addresses(std::size_t i, const boost::asio::any_io_executor& ex,
                                       std::function<void()> on_ready) {
        return resolver_->addresses(i, ex, std::move(on_ready));
    }
    const backend_resolver& resolver() const { return *resolver_; }

    // The name lookups of DNS-named backends, and periodic TCP checks of down backends (when
    // check_interval_ms > 0): at most one check per backend at a time, each under the
    // backend's connect_timeout_ms. Thread-safe.
    void start_checks(boost::asio::io_context& ioc);
    void stop_checks();
    // Checks under way now (tests).
    std::size_t checks_in_flight() const { return in_flight_.load(); }

private:
    bool usable(std::size_t i, clock::time_point now) const;
    void check_round();
    void check(std::size_t i);

    std::vector<config::backend_config> backends_;
    bool round_robin_;
    config::backend_health_config health_;
    std::string listener_name_;
    std::shared_ptr<backend_resolver> resolver_;
    std::atomic<std::size_t> next_{0};
    mutable std::mutex mutex_;
    std::vector<backend_state> state_;
    std::vector<clock::time_point> down_until_;
    // The checks live on one strand: the timer, the check sockets and their deadlines.
    struct check_state {
        std::shared_ptr<boost::asio::ip::tcp::socket> socket;  // set while a check is under way
        std::shared_ptr<boost::asio::steady_timer> deadline;
    };
    std::unique_ptr<boost::asio::strand<boost::asio::io_context::executor_type>> strand_;
    std::unique_ptr<boost::asio::steady_timer> timer_;
    std::vector<check_state> checks_;
    std::atomic<bool> checking_{false};
    std::atomic<std::size_t> in_flight_{0};
};

}  // namespace tlsbroker::core
