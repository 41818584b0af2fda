// One accept loop, shared by the listeners and the status endpoint: the listening socket on
// a strand, arm/accept, error classification (accept_error.hpp), back-off (backoff.hpp),
// re-creating a broken socket, retry timers, the hand-over of the socket at a reload.
//
// Mechanism only. What to do with a connection, whether an accept may be armed now (a
// connection limit), and what to count are the owner's: it talks to the loop through
// accept_loop_owner. Every branch of the accept completion leaves the loop in one of the
// states of listener_state.hpp.
#pragma once

#include <atomic>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "core/accept/listener_state.hpp"
#include "core/common/backoff.hpp"
#include "core/common/platform.hpp"

namespace tlsbroker::core {

// Starts accepts. The default one calls async_accept; tests inject one that fails, drops or
// loses accepts (tests/support/accept_faults.hpp).
class accept_operations {
public:
    using handler = std::function<void(const boost::system::error_code&, boost::asio::ip::tcp::socket)>;
    virtual ~accept_operations() = default;
    // Starts one accept on `acceptor`; the new socket runs on `socket_executor`. `done` runs
    // on the acceptor's executor (the loop's strand). Returns false when it started none
    // (`done` never runs then).
    virtual bool start(boost::asio::ip::tcp::acceptor& acceptor, const boost::asio::any_io_executor& socket_executor,
                       handler done) = 0;
};

// The real async_accept.
std::shared_ptr<accept_operations> default_accept_operations();

// What the loop tells its owner, to count and (where the owner knows more) log.
enum class accept_event {
    error_connection,       // an accept failed for the peer's reason; accepting again at once
    error_resource,         // out of descriptors, buffers or memory (or unknown); backing off
    error_listener,         // the listening socket is broken; re-creating it
    paused_at_limit,        // may_arm() said no: paused until resume()
    resumed_below_limit,    // resume() found room again
    backing_off,            // a resource error started a back-off pause
    resumed_after_backoff,  // the back-off timer fired and the loop accepts again
    socket_recreated,       // a new listening socket replaced the old one
};

class accept_loop_owner {
public:
    virtual ~accept_loop_owner() = default;
    // A new connection, on the loop's strand (also one taken from a replaced socket's queue).
    virtual void on_connection(boost::asio::ip::tcp::socket socket) = 0;
    // May an accept be armed now? false pauses the loop (paused_at_limit) until resume().
    virtual bool may_arm() { return true; }
    // Counting and logging hooks, on the loop's strand.
    virtual void on_event(accept_event e) = 0;
};

// What the watchdog reads.
struct accept_progress {
    listener_state state = listener_state::stopped;
    bool accept_outstanding = false;
    bool timer_pending = false;
    std::uint64_t last_armed_ms = 0;      // unix ms
    std::uint64_t last_completed_ms = 0;  // unix ms
    std::uint64_t accepts = 0;            // accepts that yielded a connection (probes included)
    std::size_t active = 0;               // slots held on the endpoint (filled in by the listener)
    std::size_t max_connections = 0;
    std::size_t live_sessions = 0;  // sessions registered on the endpoint
};

struct accept_loop_options {
    std::string what;     // how log lines name it: "listener 'web'", "status endpoint"
    std::string log_key;  // rate-limit key prefix for its log lines
    int backlog = boost::asio::socket_base::max_listen_connections;
    bool v6_only = true;  // an IPv6 address binds IPv6 only
    // The executor each accepted socket runs on (default: a new strand on the loop's context).
    std::function<boost::asio::any_io_executor()> socket_executor;
    // Connections taken per accept completion: after the one the completion brought, up to
    // batch - 1 more that already wait in the queue, with non-blocking accepts (HAProxy's
    // maxaccept, nginx's multi_accept). 1: none.
    std::size_t batch = 1;
    // Called on every listening socket the loop makes (first open, adoption, re-creation)
    // before it listens; throws boost::system::system_error to refuse the socket. The
    // listeners set their connection options here where accepted sockets inherit them.
    std::function<void(boost::asio::ip::tcp::acceptor&)> prepare_socket;
};

// The listeners' accept batch. Windows: 32. Under Wine, overlapped accepts completed far more
// slowly than the site load's connects arrived: hundreds of connections waited in the
// kernel's queue while the broker was half idle (Wine's server completes one pending accept
// per round of its poll loop); a non-blocking accept is served at once.
// POSIX: 1, the reactor accepts as soon as the socket is readable.
inline constexpr std::size_t listener_accept_batch = on_windows ? 32 : 1;

class accept_loop : public std::enable_shared_from_this<accept_loop> {
public:
    using strand_type = boost::asio::strand<boost::asio::io_context::executor_type>;

    accept_loop(boost::asio::io_context& ioc, accept_loop_options options);
    ~accept_loop();
    accept_loop(const accept_loop&) = delete;
    accept_loop& operator=(const accept_loop&) = delete;

    // Before anything else. The loop holds it weakly: once the owner is gone it stops.
    void set_owner(std::weak_ptr<accept_loop_owner> owner);
    // Where to bind; port 0 picks one, and a re-created socket keeps the port bound first.
    void set_endpoint(const boost::asio::ip::tcp::endpoint& ep) { wanted_ = ep; }

    // Binds and listens (or takes over `adopt`, a listening socket handed over at a reload).
    // Throws boost::system::system_error. Call before start(), off the strand.
    void open(std::intptr_t adopt = -1);
    // Arms the first accept.
    void start();
    // Binds and arms like open() + start(), but never throws: while the endpoint cannot be
    // bound it backs off and retries, as after a broken listening socket.
    void start_with_retry();
    // Thread-safe. Stops accepting; `then` runs on the strand once, by the first stop.
    // Runs inline when no thread runs the context any more.
    void stop(std::function<void()> then = {});
    // Stops accepting and hands the listening socket to `then` (on the strand); -1 when the
    // platform cannot release it (the socket is closed instead).
    void hand_over(std::function<void(std::intptr_t)> then);
    // Thread-safe: a loop paused at the limit accepts again if may_arm() now says yes.
    void resume();
    // Watchdog steps (thread-safe): cancel the outstanding accept (if any) and arm a new one;
    // open a new listening socket, keeping the connections waiting in the old one's queue.
    void rearm();
    void recreate();
    // Tests: accepts are started by `ops` from the next arm on; `applied` runs on the strand
    // once it is in place.
    void use_accept_operations(std::shared_ptr<accept_operations> ops, std::function<void()> applied = {});

    strand_type& strand() { return strand_; }
    listener_state state() const { return state_.load(); }
    // The fields of accept_progress that the loop knows (thread-safe).
    accept_progress progress() const;
    // Connections waiting in the kernel's accept queue, where the OS reports it.
    std::optional<std::uint32_t> queue_depth() const;
    bool is_open() const { return acceptor_.is_open(); }
    // Thread-safe: read by the watchdog and /status while a re-creation may change it.
    boost::asio::ip::tcp::endpoint local_endpoint() const;
    std::intptr_t native_handle() const;

private:
    // accept_loop.cpp: the loop.
    void do_arm();
    void on_accept(const boost::system::error_code& ec, boost::asio::ip::tcp::socket socket, std::uint64_t generation);
    void on_stale_accept(const boost::system::error_code& ec, boost::asio::ip::tcp::socket socket);
    void on_failed_accept(const boost::system::error_code& ec);
    // Takes up to options_.batch - 1 connections already queued (non-blocking accepts).
    void take_queued(accept_loop_owner& owner);
    void schedule_retry(std::chrono::milliseconds delay, bool recreate);
    void on_retry(const boost::system::error_code& ec, bool recreate, std::uint64_t seq);
    void cancel_retry();
    void set_state(listener_state s) { state_.store(s); }
    void notify(accept_event e);
    boost::asio::any_io_executor next_socket_executor();

    // accept_loop_socket.cpp: the listening socket.
    // A bound, listening socket (the adopted one when there is one). `share_port`:
    // SO_REUSEPORT (Linux), so that it can be bound beside the old socket.
    boost::asio::ip::tcp::acceptor make_acceptor(bool share_port);  // throws system_error
    // Replaces the listening socket without losing the connections in its queue. Returns
    // false when no new socket could be opened (the old one is closed then).
    bool recreate_socket();
    // Accepts what waits in `old`'s queue (non-blocking, until empty) and hands it over.
    std::size_t drain_queue(boost::asio::ip::tcp::acceptor& old);

    boost::asio::io_context& ioc_;
    const accept_loop_options options_;
    std::weak_ptr<accept_loop_owner> owner_;
    std::shared_ptr<accept_operations> ops_;
    strand_type strand_;
    boost::asio::ip::tcp::acceptor acceptor_;
    boost::asio::steady_timer retry_timer_;
    boost::asio::ip::tcp::endpoint wanted_;
    void set_bound(const boost::asio::ip::tcp::endpoint& e);
    mutable std::mutex bound_mutex_;
    boost::asio::ip::tcp::endpoint bound_;  // under bound_mutex_
    std::intptr_t adopted_ = -1;
    backoff backoff_;
    std::uint64_t generation_ = 0;  // bumped when the socket is re-created
    std::uint64_t retry_seq_ = 0;   // bumped when a retry is scheduled or cancelled
    bool stopping_ = false;
    std::atomic<bool> stop_requested_{false};

    std::atomic<listener_state> state_{listener_state::stopped};
    std::atomic<bool> accept_outstanding_{false};
    std::atomic<bool> timer_pending_{false};
    std::atomic<std::uint64_t> last_armed_ms_{0};
    std::atomic<std::uint64_t> last_completed_ms_{0};
    std::atomic<std::uint64_t> accepts_{0};
};

}  // namespace tlsbroker::core
