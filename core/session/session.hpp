// One client connection: TLS handshake under a deadline, backend connect, then a
// full-duplex relay with back-pressure and half-close. All of its state changes on its own
// strand (the executor its sockets were created with). It is owned by its pending
// operations; the endpoint's connection_registry holds only a weak reference for drain.
// Everything it needs from the endpoint comes in its session_context; it never sees a
// listener.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "core/common/counters.hpp"
#include "core/session/buffer_pool.hpp"
#include "core/session/channel.hpp"
#include "core/session/session_context.hpp"
#include "core/session/tls_io.hpp"

namespace tlsbroker::core {

enum class close_reason {
    done,                // both directions ended normally
    handshake_failed,    // bad ClientHello, protocol error, peer left mid-handshake
    handshake_timeout,   // timeouts.handshake_ms
    backend_failed,      // no backend address accepted the connection in time
    idle_timeout,        // timeouts.idle_ms without a byte either way
    write_stall,         // a peer stopped reading for timeouts.write_stall_ms
    half_close_timeout,  // one side ended and the other went on for timeouts.half_close_ms
    client_error,        // reset or TLS error on the client side
    backend_error,       // reset or error on the backend side
    drain,               // still open when the drain period ended
    refused,             // before the handshake: a PROXY header problem or a per-source limit
};

const char* to_string(close_reason r);

class session : public std::enable_shared_from_this<session> {
public:
    using clock = std::chrono::steady_clock;

    // `client` must already have its socket options applied and use its own strand.
    session(session_context ctx, boost::asio::ip::tcp::socket client, boost::asio::ip::tcp::endpoint peer);
    ~session();
    session(const session&) = delete;
    session& operator=(const session&) = delete;

    void start();
    // Thread-safe: close now, counted as `why` (used at the end of a drain).
    void abort(close_reason why);
    const boost::asio::ip::tcp::endpoint& peer() const { return peer_; }
    boost::asio::any_io_executor executor() { return client_.socket().get_executor(); }

private:
    enum class side : std::uint8_t { client, backend };
    struct pump {
        side from;
        side to;
        counter bytes;
        buffer_pool::buffer buf;
        std::size_t len = 0;
        std::size_t off = 0;
        bool read_eof = false;       // the source has ended
        bool close_pending = false;  // the end still has to be passed to the other side
        bool end_queued = false;     // close_notify is written towards the client
        clock::time_point stalled_since = clock::time_point::max();
    };

    // accept_proxy (session_proxy.cpp): reads the PROXY header, or finds there is none,
    // then starts the handshake; or refuses the connection.
    void read_proxy_header();
    void refuse_proxy(counter why, const std::string& detail);
    void do_handshake();
    void on_handshake_done();
    void next_backend();
    void take_addresses(std::uint64_t attempt);
    void try_address();
    void on_connect_timeout();
    void on_connected();
    void queue_proxy_header();
    void log_connection(close_reason why, clock::time_point ended, std::string_view reason) const;
    void observe(histogram h, std::uint64_t value) const {
        if (ctx_.histograms) ctx_.histograms->observe(h, value);
    }
    static std::uint64_t micros(clock::duration d) {
        return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(d).count());
    }
    // Bytes one pump moves before it lets other handlers run (it continues from a post).
    static constexpr std::size_t step_budget = std::size_t{256} * 1024;
    void step(pump& p);
    bool pass_end(pump& p);  // false: must wait
    void wait(side s, io_status want, pump* p);
    io_result read(side s, char* data, std::size_t size);
    io_result write(side s, const char* data, std::size_t size);
    channel& io(side s) { return s == side::client ? client_ : backend_; }
    void arm_timer();
    void on_timer();
    clock::time_point next_deadline() const;
    // `reason`: a failed handshake's short reason for the connection line (connection_line.hpp).
    void finish(close_reason why, const std::string& detail = {}, std::string_view reason = {});
    // Runs one completion's work. An exception that escapes it (bad_alloc, a sink or an
    // observer that throws) closes the session at once and gives its slot back, then goes
    // on to the event loop (server::run logs it and runs on).
    template <class F>
    void guarded(F&& work) {
        try {
            work();
        } catch (...) {
            abandon();
            throw;
        }
    }
    void abandon() noexcept;
    void close_out() noexcept;  // leaves the registry, gives the slot back
    void notify(session_event e) const;
    void note_truncated(const std::string& how);
    const config::listener_config& cfg() const { return *ctx_.cfg; }

    session_context ctx_;
    channel client_;
    channel backend_;
    boost::asio::steady_timer timer_;
    ssl_ptr ssl_;
    boost::asio::ip::tcp::endpoint peer_;  // the client: the TCP peer, or the address in its PROXY header
    // The address the client reached, from its PROXY header (the balancer's); unset: ours.
    std::optional<boost::asio::ip::tcp::endpoint> reached_;
    struct connect_state {
        std::vector<std::size_t> order;  // backends to try, best first
        std::size_t next = 0;            // next entry of `order`
        std::size_t backend = 0;         // the backend being tried
        std::vector<boost::asio::ip::tcp::endpoint> addresses;
        std::size_t address = 0;
        resolve_wait wait;                   // for the first name lookup of the backend being tried
        std::uint64_t attempt = 0;           // a completion for an older attempt is stale
        clock::time_point backend_deadline;  // connect_timeout_ms of the backend being tried
        clock::time_point walk_deadline;     // timeouts.connect_total_ms for the whole walk
        clock::time_point started;           // the handshake finished: backend_connect's start
    };
    std::unique_ptr<connect_state> connect_;    // only while connecting
    std::unique_ptr<std::string> proxy_bytes_;  // only while a PROXY header is read
    bool awaiting_proxy_ = false;
    std::string backend_used_;
    std::uint64_t bytes_up_ = 0;
    std::uint64_t bytes_down_ = 0;
    pump up_{side::client, side::backend, counter::bytes_client_to_backend, {}};
    pump down_{side::backend, side::client, counter::bytes_backend_to_client, {}};

    clock::time_point started_;
    clock::time_point phase_deadline_ = clock::time_point::max();  // handshake or connect
    clock::time_point last_activity_ = clock::time_point::max();
    clock::time_point half_close_deadline_ = clock::time_point::max();
    clock::time_point timer_expiry_ = clock::time_point::max();
    enum class phase : std::uint8_t { handshake, connecting, relaying, closed } phase_ = phase::handshake;
    bool timer_armed_ = false;
};

}  // namespace tlsbroker::core
