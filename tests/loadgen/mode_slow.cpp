// slowloris and stop-reading: clients that stall the server, and how long it takes the
// server to close them.
#include <openssl/bio.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include "modes.hpp"

namespace loadgen {

namespace {

// The first bytes a real client sends: a ClientHello made by OpenSSL into a memory BIO.
std::string client_hello(net::ssl::context& tls, const std::string& sni) {
    SSL* ssl = SSL_new(tls.native_handle());
    BIO* rbio = BIO_new(BIO_s_mem());
    BIO* wbio = BIO_new(BIO_s_mem());
    SSL_set_bio(ssl, rbio, wbio);
    if (!sni.empty()) SSL_set_tlsext_host_name(ssl, sni.c_str());
    SSL_set_connect_state(ssl);
    SSL_do_handshake(ssl);
    char* data = nullptr;
    const long n = BIO_get_mem_data(wbio, &data);
    std::string out(data, static_cast<std::size_t>(n > 0 ? n : 0));
    SSL_free(ssl);
    return out;
}
}  // namespace

// Connections that never complete a handshake: silent ones, or with --half-hello ones that
// stop half-way through a ClientHello. Each waits (at most --duration seconds) for the
// server to close it; the time that took is reported (closed_after_*).
int run_slowloris(run_context& rc) {
    const auto n = static_cast<std::size_t>(rc.opt.integer("connections", 100));
    const double duration = rc.opt.num("duration", 30);
    const double rate = rc.opt.num("rate", 0);
    const bool half = rc.opt.flag("half-hello");
    const std::string hello = client_hello(*rc.tls, rc.sni);
    figures f;
    schedule_paced(rc.eng, n, rate, [&](std::size_t i) {
        auto* ctxp = &rc.eng.ctx(i);
        net::co_spawn(
            *ctxp,
            [&, ctxp]() -> net::awaitable<void> {
                tcp::socket s(*ctxp);
                net::steady_timer timer(*ctxp, after(duration));
                timer.async_wait([&s](error_code ec) {
                    if (!ec) s.close(ec);
                });
                ++f.attempted;
                error_code ec;
                const auto start = clock_type::now();
                co_await s.async_connect(rc.target, with(ec));
                if (ec) co_return timer.cancel(), f.fail("connect_" + error_name(ec));
                f.setup.add(since(start) * 1000.0);
                if (half) {
                    co_await net::async_write(s, net::buffer(hello.data(), hello.size() / 2), with(ec));
                }
                char buf[256];
                std::size_t answered = 0;
                while (!ec) answered += co_await s.async_read_some(net::buffer(buf), with(ec));
                if (!s.is_open()) co_return f.fail("not_closed_by_server");
                timer.cancel();
                if (answered) f.count("answered_bytes", answered);
                f.count(ec == net::error::eof ? "closed_fin" : "closed_" + error_name(ec));
                f.other.add(since(start) * 1000.0);
                ++f.ok;
            },
            net::detached);
    });
    const bool in_time = run_engine(rc, (rate > 0 ? n / rate : 0) + duration + 5);
    rc.out.put("connections", static_cast<std::uint64_t>(n));
    rc.out.put("kind", half ? "half_hello" : "silent");
    rc.out.put("closed_by_server", static_cast<std::uint64_t>(f.ok));
    put_figures(rc.out, f, "closed_after");
    return (f.failed || !in_time) ? 1 : 0;
}

// Clients that complete the handshake, then send a request stream without ever reading:
// the echo backs up until the server gives up on the stalled writes and closes them.
int run_stop_reading(run_context& rc) {
    const auto n = static_cast<std::size_t>(rc.opt.integer("connections", 10));
    const double duration = rc.opt.num("duration", 30);
    figures f;
    for (std::size_t i = 0; i < n; ++i) {
        auto* ctxp = &rc.eng.ctx(i);
        net::co_spawn(
            *ctxp,
            [&, ctxp, i]() -> net::awaitable<void> {
                auto c = tls_conn::make(*ctxp, *rc.tls);
                c->deadline(rc.timeout_s);
                ++f.attempted;
                if (auto why = co_await open_tls(rc, *c, f); !why.empty()) co_return f.fail(why);
                c->deadline(duration);
                const auto start = clock_type::now();
                const std::string chunk = payload(rc.seed, i, 16384);
                std::uint64_t sent = 0;
                for (;;) {
                    if (auto ec = co_await c->write(chunk.data(), chunk.size())) {
                        if (c->timed_out()) co_return f.fail("not_closed_by_server");
                        f.count("closed_" + error_name(ec));
                        break;
                    }
                    sent += chunk.size();
                }
                f.bytes += sent;
                f.other.add(since(start) * 1000.0);
                ++f.ok;
                c->close();
            },
            net::detached);
    }
    const bool in_time = run_engine(rc, duration + rc.timeout_s + 5);
    rc.out.put("connections", static_cast<std::uint64_t>(n));
    rc.out.put("closed_by_server", static_cast<std::uint64_t>(f.ok));
    rc.out.put("bytes_sent_before_close", static_cast<std::uint64_t>(f.bytes));
    put_figures(rc.out, f, "closed_after");
    return (f.failed || !in_time) ? 1 : 0;
}

}  // namespace loadgen
