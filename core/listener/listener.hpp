// A listener: the policy for one configured endpoint. Its accept_loop (accept_loop.hpp) is
// the mechanism (socket, accept, back-off, re-create, hand-over); the listener decides
// whether an accept may be armed (the connection limit, before an accept is armed), what a
// connection becomes (a session, a probe, a refusal) and what is counted.
#pragma once

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <vector>

#include "config/config.hpp"
#include "core/accept/accept_loop.hpp"
#include "core/accept/endpoint_admission.hpp"
#include "core/accept/listener_state.hpp"
#include "core/backend/backend_set.hpp"
#include "core/common/counters.hpp"
#include "core/common/event_loops.hpp"
#include "core/common/histogram.hpp"
#include "core/session/buffer_pool.hpp"
#include "core/session/connection_registry.hpp"
#include "core/tls/tls_context.hpp"

namespace tlsbroker::core {

class session;

class listener : public accept_loop_owner, public std::enable_shared_from_this<listener> {
public:
    // `admission` and `registry` belong to the endpoint and outlive this listener across
    // reloads (the server keeps one of each per endpoint).
    // The listener runs on loops.control(); each connection it accepts goes to loops.next().
    listener(event_loops& loops, config::config_ptr root, std::size_t index, counter_block& own, counter_block& total,
             buffer_pool& pool, std::shared_ptr<endpoint_admission> admission,
             std::shared_ptr<connection_registry> registry, histogram_block* histograms = nullptr);
    ~listener() override;

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
    boost::asio::ip::tcp::endpoint local_endpoint() const { return loop_->local_endpoint(); }
    listener_state state() const { return loop_->state(); }
    // Sessions of this listener's endpoint, whichever listener accepted them (the endpoint's
    // registry is shared across reloads).
    std::size_t live_sessions() const;
    // Sessions this listener accepted that are still alive.
    std::size_t own_sessions() const { return static_cast<std::size_t>(own_.use_count()) - 1; }

    endpoint_admission& admission() { return *admission_; }
    const std::shared_ptr<connection_registry>& registry() const { return registry_; }

    // Watchdog interface (thread-safe).
    accept_progress progress() const;
    // Reads the progress and the accept-queue depth on the listener's strand, so that no
    // accept completion is observed half-way; `cb` runs on that strand.
    void inspect(std::function<void(accept_progress, std::optional<std::uint32_t>)> cb);
    void recover_rearm();  // cancel the outstanding accept (if any) and arm a new one
    // Opens a new listening socket for the endpoint and closes the old one, keeping the
    // connections waiting in the old socket's queue (accept_loop::recreate()).
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
    std::optional<std::uint32_t> accept_queue_depth() const { return loop_->queue_depth(); }

    // Tests: accepts are started by `ops` from the next arm on (a fault seam); `applied`
    // runs once it is in place.
    void use_accept_operations(std::shared_ptr<accept_operations> ops, std::function<void()> applied = {}) {
        loop_->use_accept_operations(std::move(ops), std::move(applied));
    }
    // Tests: the listening socket's descriptor.
    std::intptr_t native_handle() const { return loop_->native_handle(); }

    // accept_loop_owner (on the loop's strand).
    void on_connection(boost::asio::ip::tcp::socket sock) override;
    bool may_arm() override { return !admission_->at_limit(); }
    void on_event(accept_event e) override;

private:
    // Sets the socket up and starts its session (on the connection's strand): on_connection()
    // admits and posts it here, so that the accept path re-arms at once.
    void serve(boost::asio::ip::tcp::socket sock, const boost::asio::ip::tcp::endpoint& remote, bool via_proxy,
               connection_slot slot);

    boost::asio::io_context& ioc_;  // the control loop
    event_loops& loops_;
    config::config_ptr root_;
    const config::listener_config* cfg_;
    counters counters_;
    histogram_block* histograms_;  // may be null (tests)
    buffer_pool& pool_;
    std::shared_ptr<tls_context> tls_;
    std::shared_ptr<backend_set> backends_;
    std::shared_ptr<endpoint_admission> admission_;
    std::shared_ptr<connection_registry> registry_;
    std::intptr_t adopted_ = -1;
    std::shared_ptr<accept_loop> loop_;
    boost::asio::steady_timer drain_timer_;  // on the loop's strand
    std::atomic<probe_outcome> last_probe_{probe_outcome::none};
    std::atomic<bool> orphaned_slots_{false};
    std::shared_ptr<const int> own_ = std::make_shared<const int>(0);  // one more copy per live session
};

// "0.0.0.0:8443", "[::1]:0", "*:443" → an endpoint to bind.
boost::asio::ip::tcp::endpoint bind_endpoint(const config::endpoint& e);

}  // namespace tlsbroker::core
