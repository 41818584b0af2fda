#include "tls_conn.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

namespace loadgen {

std::shared_ptr<net::ssl::context> make_client_context(const std::string& ca_file) {
    auto ctx = std::make_shared<net::ssl::context>(net::ssl::context::tls_client);
    SSL_CTX* c = ctx->native_handle();
    SSL_CTX_set_min_proto_version(c, TLS1_2_VERSION);
    if (!ca_file.empty()) {
        ctx->load_verify_file(ca_file);
        SSL_CTX_set_verify(c, SSL_VERIFY_PEER, nullptr);
    } else {
        SSL_CTX_set_verify(c, SSL_VERIFY_NONE, nullptr);
        // Skip chain building altogether (VERIFY_NONE alone still builds and checks the
        // chain); the handshake still checks the server's signature over the transcript.
        SSL_CTX_set_cert_verify_callback(
            c, [](X509_STORE_CTX*, void*) { return 1; }, nullptr);
    }
    SSL_CTX_set_mode(c, SSL_MODE_RELEASE_BUFFERS);
    SSL_CTX_set_session_cache_mode(c, SSL_SESS_CACHE_OFF);
    return ctx;
}

std::shared_ptr<tls_conn> tls_conn::make(net::io_context& ctx, net::ssl::context& tls) {
    return std::make_shared<tls_conn>(ctx, tls);
}

tls_conn::tls_conn(net::io_context& ctx, net::ssl::context& tls) : stream_(ctx, tls), timer_(ctx) {
    timer_.expires_at(clock_type::time_point::max());
}

void tls_conn::deadline(double seconds) {
    if (seconds <= 0) {
        timer_.expires_at(clock_type::time_point::max());
    } else {
        timer_.expires_after(std::chrono::microseconds(static_cast<long long>(seconds * 1e6)));
    }
    if (!watching_) {
        watching_ = true;
        net::co_spawn(timer_.get_executor(), watch(weak_from_this(), &timer_), net::detached);
    }
}

// The deadline actor: wakes on every (re)arm and closes the socket once the expiry passed.
// It holds only a weak reference, so the connection's owner decides its lifetime.
net::awaitable<void> tls_conn::watch(std::weak_ptr<tls_conn> weak, net::steady_timer* timer) {
    for (;;) {
        error_code ec;
        co_await timer->async_wait(with(ec));
        const auto self = weak.lock();
        if (!self || self->closed_) co_return;
        if (self->timer_.expiry() <= clock_type::now()) {
            self->timed_out_ = true;
            error_code ignored;
            self->socket().close(ignored);
            co_return;
        }
    }
}

net::awaitable<error_code> tls_conn::connect(const tcp::endpoint& to) {
    error_code ec;
    co_await socket().async_connect(to, with(ec));
    if (!ec) socket().set_option(tcp::no_delay(true), ec);
    co_return ec;
}

net::awaitable<error_code> tls_conn::handshake(const std::string& sni, bool check_name, SSL_SESSION* resume) {
    SSL* ssl = stream_.native_handle();
    if (!sni.empty()) SSL_set_tlsext_host_name(ssl, sni.c_str());
    if (check_name && !sni.empty()) SSL_set1_host(ssl, sni.c_str());
    if (resume) SSL_set_session(ssl, resume);
    error_code ec;
    co_await stream_.async_handshake(net::ssl::stream_base::client, with(ec));
    co_return ec;
}

net::awaitable<error_code> tls_conn::write(const void* data, std::size_t n) {
    error_code ec;
    co_await net::async_write(stream_, net::buffer(data, n), with(ec));
    co_return ec;
}

net::awaitable<error_code> tls_conn::read_exact(void* data, std::size_t n) {
    error_code ec;
    co_await net::async_read(stream_, net::buffer(data, n), with(ec));
    co_return ec;
}

net::awaitable<std::pair<error_code, std::size_t>> tls_conn::read_some(void* data, std::size_t n) {
    error_code ec;
    const auto got = co_await stream_.async_read_some(net::buffer(data, n), with(ec));
    co_return std::pair{ec, got};
}

net::awaitable<std::string> tls_conn::round_trip(const std::string& msg) {
    if (auto ec = co_await write(msg.data(), msg.size())) co_return failure("write", *this, ec);
    std::string back(msg.size(), '\0');
    if (auto ec = co_await read_exact(back.data(), back.size())) co_return failure("read", *this, ec);
    co_return back == msg ? std::string() : std::string("mismatch");
}

net::awaitable<void> tls_conn::shutdown() {
    // Only our close_notify: waiting for the peer's would add a round trip per connection.
    SSL_set_shutdown(stream_.native_handle(), SSL_RECEIVED_SHUTDOWN);
    error_code ec;
    co_await stream_.async_shutdown(with(ec));
    close();
}

void tls_conn::reset() {
    error_code ec;
    socket().set_option(net::socket_base::linger(true, 0), ec);
    close();
}

void tls_conn::close() {
    closed_ = true;
    error_code ec;
    socket().close(ec);
    timer_.cancel();
}

session_ptr tls_conn::session() {
    SSL_SESSION* s = SSL_get1_session(stream_.native_handle());
    if (!s) return {};
    if (!SSL_SESSION_is_resumable(s)) {
        SSL_SESSION_free(s);
        return {};
    }
    return session_ptr(s, SSL_SESSION_free);
}

std::string failure(const char* stage, const tls_conn& c, const error_code& ec) {
    return std::string(stage) + "_" + (c.timed_out() ? std::string("timeout") : error_name(ec));
}

}  // namespace loadgen
