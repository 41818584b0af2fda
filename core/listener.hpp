// A listening socket and its accept loop. Mechanism (socket, accept, back-off, re-create)
// lives here; the connection limit is enforced here too, before an accept is armed. The
// state machine is in listener_state.hpp; every branch of on_accept() ends in one state.
#pragma once

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <vector>

#include "config/config.hpp"
#include "core/backoff.hpp"
#include "core/backend_set.hpp"
#include "core/buffer_pool.hpp"
#include "core/counters.hpp"
#include "core/listener_state.hpp"
#include "core/connection_registry.hpp"
#include "core/endpoint_admission.hpp"
#include "core/event_loops.hpp"
#include "core/tls_context.hpp"

namespace tlsbroker::core {

class session;

// Test seam: switched on by tests only (there is no config key for it).
struct accept_faults {
    std::atomic<bool> drop_rearm{false};  // the next successful accept does not re-arm (once)
    std::atomic<int> fail_next{0};        // the next N accept completions fail with fail_code
    std::atomic<int> fail_code{0};        // an errno / Winsock value
    // The next accept counts as outstanding but is never issued: a completion that never
    // arrives (once). Connections wait in the accept queue until the watchdog acts.
    std::atomic<bool> lose_next_arm{false};
};

// What the watchdog reads.
struct accept_progress {
    listener_state state = listener_state::stopped;
    bool accept_outstanding = false;
    bool timer_pending = false;
    std::uint64_t last_armed_ms = 0;      // unix ms
    std::uint64_t last_completed_ms = 0;  // unix ms
    std::uint64_t accepts = 0;            // accepts that yielded a connection (probes included)
    std::size_t active = 0;           // slots held on the endpoint
    std::size_t max_connections = 0;
    std::size_t live_sessions = 0;    // sessions registered on the endpoint
};

class listener : public std::enable_shared_from_this<listener> {
public:
    // `admission` and `registry` belong to the endpoint and outlive this listener across
    // reloads (the server keeps one of each per endpoint).
    // The listener runs on loops.control(); each connection it accepts goes to loops.next().
    listener(event_loops& loops, config::config_ptr root, std::size_t index,
             counter_block& own, counter_block& total, buffer_pool& pool,
             std::shared_ptr<endpoint_admission> admission, std::shared_ptr<connection_registry> registry);
    ~listener();

    // Builds the TLS context, binds, listens and arms the first accept. Throws
    // std::runtime_error naming the listener and the reason.
    void start();
    // Builds the TLS context only (start() does it when not done yet); throws like start().
    void prepare();
    // The same, taking over a listening socket from the listener this one replaces (a
    // reload): the kernel's accept queue is kept, so no connection attempt is refused.
    void start_adopting(std::intptr_t listening_socket);
    // Stops accepting and hands the listening socket to `then` (on this listener's strand);
    // -1 when the platform cannot release it (the socket is closed instead).
    void hand_over(std::function<void(std::intptr_t)> then);
    // Binds and arms like start(), but never throws: while the endpoint cannot be bound it
    // backs off and retries (counted and logged), as after a broken listening socket.
    void start_with_retry();
    // This listener accepts for its endpoint from now on: its limits apply, and a slot
    // given back wakes it (not its predecessor). start() does it; a reload does it when it
    // hands the socket over.
    void claim_admission();
    // Thread-safe. Stops accepting; live sessions go on.
    void stop();
    // Thread-safe. Stops accepting and closes sessions still open after `grace`.
    void drain(std::chrono::milliseconds grace);

    const config::listener_config& cfg() const { return *cfg_; }
    counters& ctr() { return counters_; }
    buffer_pool& pool() { return pool_; }
    backend_set& backends() { return *backends_; }
    SSL_CTX* tls() const { return tls_->native(); }
    boost::asio::ip::tcp::endpoint local_endpoint() const;
    listener_state state() const { return state_.load(); }
    std::size_t live_sessions() const;

    endpoint_admission& admission() { return *admission_; }
    const std::shared_ptr<connection_registry>& registry() const { return registry_; }

    // Watchdog interface (thread-safe).
    accept_progress progress() const;
    // Reads the progress and the accept-queue depth on the listener's strand, so that no
    // accept completion is observed half-way; `cb` runs on that strand.
    void inspect(std::function<void(accept_progress, std::optional<std::uint32_t>)> cb);
    void recover_rearm();     // cancel the outstanding accept (if any) and arm a new one
    // Opens a new listening socket for the endpoint and closes the old one, keeping the
    // connections waiting in the old socket's queue (see recreate_socket()).
    void recover_recreate();
    // Connections from `from` are taken as canary probes: closed at once, never counted as
    // clients; `on_taken` runs on the listener's strand when one is accepted. A probe stays
    // registered until it is taken or removed (a canary that waits in the queue past its
    // timeout is still recognised); entries older than a minute are dropped.
    void add_probe(const boost::asio::ip::tcp::endpoint& from, std::function<void()> on_taken) {
        admission_->add_probe(from, std::move(on_taken));
    }
    void remove_probe(const boost::asio::ip::tcp::endpoint& from) { admission_->remove_probe(from); }
    // The watchdog's verdict on its last probe (shown in /status).
    void note_probe(probe_outcome o) { last_probe_.store(o); }
    probe_outcome last_probe() const { return last_probe_.load(); }
    // The watchdog's verdict: at the limit with every slot held by no live session.
    void note_orphaned_slots(bool on) { orphaned_slots_.store(on); }
    bool orphaned_slots() const { return orphaned_slots_.load(); }
    // Connections waiting in the kernel's accept queue, where the OS reports it.
    std::optional<std::uint32_t> accept_queue_depth() const;

    accept_faults& faults() { return faults_; }
    // Tests: the listening socket's descriptor.
    std::intptr_t native_handle() const;

private:
    void open();  // throws boost::system::system_error
    // A bound, listening socket for the endpoint (the adopted one when there is one).
    // `share_port`: SO_REUSEPORT (Linux), so that it can be bound beside the old socket.
    boost::asio::ip::tcp::acceptor make_acceptor(bool share_port);  // throws system_error
    // The re-create step (on the strand): replaces the listening socket without losing the
    // connections in its queue. Returns false when no new socket could be opened (the old
    // one is closed then, and the caller backs off and retries).
    bool recreate_socket();
    // Accepts what waits in `old`'s queue (non-blocking, until empty) and serves it.
    std::size_t drain_queue(boost::asio::ip::tcp::acceptor& old);
    void do_arm();
    void on_accept(const boost::system::error_code& ec, boost::asio::ip::tcp::socket sock,
                   std::uint64_t generation);
    // Admits a new connection (on the strand, no socket call but the peer's address), then
    // posts serve() to the connection's strand.
    void take(boost::asio::ip::tcp::socket sock);
    // Sets the socket up and starts its session (on the connection's strand).
    void serve(boost::asio::ip::tcp::socket sock, const boost::asio::ip::tcp::endpoint& remote, bool via_proxy,
               connection_slot slot);
    void schedule_retry(std::chrono::milliseconds delay, bool recreate);
    void set_state(listener_state s);
    void resume_below_limit();  // posts: a paused listener below its limit accepts again

    boost::asio::io_context& ioc_;  // the control loop
    event_loops& loops_;
    config::config_ptr root_;
    const config::listener_config* cfg_;
    counters counters_;
    buffer_pool& pool_;
    std::shared_ptr<tls_context> tls_;
    std::shared_ptr<backend_set> backends_;
    std::shared_ptr<endpoint_admission> admission_;
    std::shared_ptr<connection_registry> registry_;
    std::intptr_t adopted_ = -1;
    boost::asio::strand<boost::asio::io_context::executor_type> strand_;
    boost::asio::ip::tcp::acceptor acceptor_;
    boost::asio::steady_timer retry_timer_;
    boost::asio::steady_timer drain_timer_;
    boost::asio::ip::tcp::endpoint bound_;
    backoff backoff_;
    std::uint64_t generation_ = 0;  // bumped when the socket is re-created
    std::uint64_t retry_seq_ = 0;   // bumped when a retry is scheduled or cancelled
    bool stopping_ = false;

    std::atomic<listener_state> state_{listener_state::stopped};
    std::atomic<bool> accept_outstanding_{false};
    std::atomic<bool> timer_pending_{false};
    std::atomic<std::uint64_t> last_armed_ms_{0};
    std::atomic<std::uint64_t> last_completed_ms_{0};
    std::atomic<std::uint64_t> accepts_{0};
    std::atomic<probe_outcome> last_probe_{probe_outcome::none};
    std::atomic<bool> orphaned_slots_{false};

    accept_faults faults_;
};

// "0.0.0.0:8443", "[::1]:0", "*:443" → an endpoint to bind.
boost::asio::ip::tcp::endpoint bind_endpoint(const config::endpoint& e);

}  // namespace tlsbroker::core
