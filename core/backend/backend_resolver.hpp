// A listener's backend addresses. A literal IP backend is its address. A DNS-named backend
// is looked up on a schedule of its own, never per connection: at start, then again every
// `refresh` after a good result (after `retry`, doubling up to `refresh`, after a failed one),
// with at most one lookup of a name in flight. Sessions take the cached result; before a
// name's first lookup has ended a session waits for it under its own connect deadline, and a
// session that ends drops its wait (nothing of it is left behind). A failed lookup is logged
// (rate-limited) and counted (backend_resolve_failures), and the last good result stays in
// use.
#pragma once

#include <atomic>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "core/common/counters.hpp"

namespace tlsbroker::core {

class backend_resolver;

// A session's wait for a name's first lookup; dropping it (or the session) cancels it.
class resolve_wait {
public:
    resolve_wait() = default;
    resolve_wait(std::weak_ptr<backend_resolver> r, std::size_t index, std::uint64_t token)
        : resolver_(std::move(r)), index_(index), token_(token) {}
    resolve_wait(resolve_wait&& o) noexcept { *this = std::move(o); }
    resolve_wait& operator=(resolve_wait&& o) noexcept;
    resolve_wait(const resolve_wait&) = delete;
    resolve_wait& operator=(const resolve_wait&) = delete;
    ~resolve_wait() { cancel(); }
    void cancel() noexcept;

private:
    std::weak_ptr<backend_resolver> resolver_;
    std::size_t index_ = 0;
    std::uint64_t token_ = 0;  // 0: nothing to cancel
};

class backend_resolver : public std::enable_shared_from_this<backend_resolver> {
public:
    using endpoints = std::vector<boost::asio::ip::tcp::endpoint>;
    using resolve_done = std::function<void(const boost::system::error_code&, endpoints)>;
    // Looks up host:port and calls `done` once, from any thread.
    using resolve_fn = std::function<void(const std::string& host, std::uint16_t port, resolve_done done)>;

    struct options {
        std::chrono::milliseconds refresh{30000};  // next lookup after a good result
        std::chrono::milliseconds retry{1000};     // after a failed one; doubles up to refresh
        resolve_fn resolve;                        // empty: the system resolver (Asio)
    };

    // One entry per backend, in the listener's order.
    backend_resolver(std::string listener_name, const std::vector<config::backend_config>& backends,
                     std::optional<counters> ctr, options opts);

    // Starts the lookups of every name (a no-op without names). stop(): none is started any
    // more; one under way still ends and wakes its waiters.
    void start(boost::asio::io_context& ioc);
    void stop();

    struct lookup {
        bool ready = false;  // `addresses` holds what is known (empty: the name found nothing yet)
        endpoints addresses;
        resolve_wait pending;  // when not ready: on_ready is posted to ex once the first lookup ends
    };
    // Thread-safe. on_ready is only kept (and never run inline) when the result is not ready.
    lookup addresses(std::size_t i, const boost::asio::any_io_executor& ex, std::function<void()> on_ready);

    bool is_name(std::size_t i) const { return !entries_[i].literal; }
    // Tests and diagnostics.
    std::uint64_t lookups_started() const { return started_.load(); }
    std::size_t lookups_in_flight() const;
    std::size_t waiting() const;

private:
    friend class resolve_wait;
    struct waiter {
        std::uint64_t token;
        boost::asio::any_io_executor ex;
        std::function<void()> fn;
    };
    struct entry {
        std::string host;
        std::uint16_t port = 0;
        std::string text;  // as in the config, for logs
        bool literal = false;
        endpoints addresses;      // the literal address, or the last good lookup result
        bool first_done = false;  // a lookup has ended (waiters are woken then)
        bool in_flight = false;
        std::uint32_t failures_in_row = 0;
        std::vector<waiter> waiters;
        std::unique_ptr<boost::asio::steady_timer> timer;
    };

    void begin(std::size_t i);                                                      // on the strand
    void end(std::size_t i, const boost::system::error_code& ec, endpoints found);  // on the strand
    void cancel_wait(std::size_t i, std::uint64_t token) noexcept;

    std::string listener_name_;
    std::optional<counters> ctr_;
    options opts_;
    mutable std::mutex mutex_;
    std::vector<entry> entries_;
    std::uint64_t next_token_ = 1;
    std::unique_ptr<boost::asio::strand<boost::asio::io_context::executor_type>> strand_;
    std::atomic<bool> running_{false};
    std::atomic<std::uint64_t> started_{0};
};

}  // namespace tlsbroker::core
