// One client connection: TCP connect, TLS over asio::ssl, and a deadline that closes the
// socket when it expires (every wait of the load generator is bounded by one).
#pragma once

#include <openssl/ssl.h>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <memory>

#include "engine.hpp"
#include "report.hpp"

namespace loadgen {

using tcp = net::ip::tcp;
using error_code = boost::system::error_code;
using session_ptr = std::shared_ptr<SSL_SESSION>;

// The completion token of every coroutine wait: the error lands in `ec` instead of a throw.
inline auto with(error_code& ec) { return net::redirect_error(net::use_awaitable, ec); }

// The client TLS context: TLS 1.2+, buffers released while idle. With `ca_file` the
// server's chain is verified against it (and its name against the SNI, see handshake);
// without, nothing is verified (benchmarks use throwaway self-signed certificates).
// Throws boost::system::system_error when the file cannot be read.
std::shared_ptr<net::ssl::context> make_client_context(const std::string& ca_file);

class tls_conn : public std::enable_shared_from_this<tls_conn> {
public:
    static std::shared_ptr<tls_conn> make(net::io_context& ctx, net::ssl::context& tls);
    tls_conn(net::io_context& ctx, net::ssl::context& tls);

    // The deadline for everything that follows; seconds <= 0 means none.
    void deadline(double seconds);
    bool timed_out() const { return timed_out_; }

    net::awaitable<error_code> connect(const tcp::endpoint& to);
    // Sends `sni` (none when empty), offers `resume` (may be null); with `check_name` the
    // certificate must match `sni`. resumed() tells whether the server took the session.
    net::awaitable<error_code> handshake(const std::string& sni, bool check_name, SSL_SESSION* resume = nullptr);
    net::awaitable<error_code> write(const void* data, std::size_t n);
    net::awaitable<error_code> read_exact(void* data, std::size_t n);
    net::awaitable<std::pair<error_code, std::size_t>> read_some(void* data, std::size_t n);
    // Writes `msg`, reads the same number of bytes back and compares: "" or a failure reason.
    net::awaitable<std::string> round_trip(const std::string& msg);
    // Sends close_notify (bounded by the deadline) and closes.
    net::awaitable<void> shutdown();
    // Closes at once with SO_LINGER 0 (the peer sees a reset).
    void reset();
    void close();

    bool resumed() { return SSL_session_reused(stream_.native_handle()) == 1; }
    session_ptr session();
    tcp::socket& socket() { return stream_.next_layer(); }
    net::ssl::stream<tcp::socket>& stream() { return stream_; }

private:
    static net::awaitable<void> watch(std::weak_ptr<tls_conn> weak, net::steady_timer* timer);
    net::ssl::stream<tcp::socket> stream_;
    net::steady_timer timer_;
    bool watching_ = false;
    bool closed_ = false;
    bool timed_out_ = false;
};

// Names a failure by stage and error: "handshake_timeout", "connect_refused", ...
std::string failure(const char* stage, const tls_conn& c, const error_code& ec);

}  // namespace loadgen
