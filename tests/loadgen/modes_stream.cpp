// throughput, slowloris and stop-reading modes.
#include <openssl/bio.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <cstring>

#include "modes.hpp"
#include "tls_conn.hpp"

namespace loadgen {

namespace {
auto with(error_code& ec) { return net::redirect_error(net::use_awaitable, ec); }

clock_type::time_point after(double seconds) {
    return clock_type::now() +
           std::chrono::duration_cast<clock_type::duration>(std::chrono::duration<double>(seconds));
}

// The first bytes a real client sends: a ClientHello made by OpenSSL into a memory BIO.
std::string client_hello(net::ssl::context& tls) {
    SSL* ssl = SSL_new(tls.native_handle());
    BIO* rbio = BIO_new(BIO_s_mem());
    BIO* wbio = BIO_new(BIO_s_mem());
    SSL_set_bio(ssl, rbio, wbio);
    SSL_set_connect_state(ssl);
    SSL_do_handshake(ssl);
    char* data = nullptr;
    const long n = BIO_get_mem_data(wbio, &data);
    std::string out(data, static_cast<std::size_t>(n > 0 ? n : 0));
    SSL_free(ssl);
    return out;
}

// The pattern one connection sends over and over; an odd length so that chunk boundaries
// move through it.
constexpr std::size_t pattern_size = 1048573;
}  // namespace

// C connections send a random pattern through the echo path as fast as it goes (or at
// --max-mbps in total) and compare every byte that comes back.
int run_throughput(run_context& rc) {
    using namespace net::experimental::awaitable_operators;
    const auto concurrency = static_cast<std::size_t>(rc.opt.integer("concurrency", 8));
    const double duration = rc.opt.num("duration", 10);
    const double max_mbps = rc.opt.num("max-mbps", 0);
    const auto chunk = static_cast<std::size_t>(rc.opt.integer("chunk", 16384));
    figures f;
    std::atomic<std::uint64_t> echoed{0};
    const auto t0 = clock_type::now();
    const auto end = after(duration);
    for (std::size_t w = 0; w < concurrency; ++w) {
        auto* ctxp = &rc.eng.ctx(w);
        net::co_spawn(
            *ctxp,
            [&, ctxp, w]() -> net::awaitable<void> {
                std::vector<unsigned char> pattern(pattern_size);
                rng(rc.seed * 7919 + w).fill(pattern.data(), pattern.size());
                auto c = tls_conn::make(*ctxp, *rc.tls);
                c->deadline(rc.timeout_s);
                ++f.attempted;
                if (auto ec = co_await c->connect(rc.target))
                    co_return f.fail(failure("connect", *c, ec));
                if (auto ec = co_await c->handshake())
                    co_return f.fail(failure("handshake", *c, ec));
                c->deadline(duration + rc.timeout_s);
                std::uint64_t sent = 0, got = 0;
                bool writer_done = false;
                std::string why;
                auto writer = [&]() -> net::awaitable<void> {
                    net::steady_timer pace(*ctxp);
                    const double per_conn = max_mbps * 1e6 / static_cast<double>(concurrency);
                    while (clock_type::now() < end && why.empty()) {
                        if (per_conn > 0 && sent > per_conn * since(t0)) {
                            pace.expires_after(std::chrono::milliseconds(5));
                            error_code ec;
                            co_await pace.async_wait(with(ec));
                            continue;
                        }
                        const auto off = sent % pattern_size;
                        const auto len = std::min(chunk, pattern_size - off);
                        if (auto ec = co_await c->write(pattern.data() + off, len)) {
                            why = failure("write", *c, ec);
                            break;
                        }
                        sent += len;
                    }
                    writer_done = true;
                    // Everything sent has come back already: wake the reader.
                    if (got == sent) c->socket().cancel();
                };
                auto reader = [&]() -> net::awaitable<void> {
                    std::vector<unsigned char> buf(65536);
                    while (why.empty() && !(writer_done && got == sent)) {
                        auto [ec, n] = co_await c->read_some(buf.data(), buf.size());
                        if (ec) {
                            if (!(writer_done && got == sent)) why = failure("read", *c, ec);
                            break;
                        }
                        for (std::size_t done = 0; done < n;) {
                            const auto off = (got + done) % pattern_size;
                            const auto len = std::min(n - done, pattern_size - off);
                            if (std::memcmp(buf.data() + done, pattern.data() + off, len) != 0) {
                                why = "mismatch";
                                break;
                            }
                            done += len;
                        }
                        got += n;
                        echoed += n;
                    }
                };
                co_await (writer() && reader());
                if (!why.empty()) co_return f.fail(why);
                f.bytes += got;
                ++f.ok;
                c->close();
            },
            net::detached);
    }
    rc.eng.run(duration + rc.timeout_s * 3 + 5);
    const double elapsed = std::min(since(t0), duration + 0.001);
    rc.out.put("concurrency", static_cast<std::uint64_t>(concurrency));
    rc.out.put("bytes_echoed", static_cast<std::uint64_t>(echoed));
    rc.out.put("mb_per_s", static_cast<double>(echoed) / 1e6 / elapsed);
    put_figures(rc.out, f, "connection");
    return (f.failed || f.ok != concurrency) ? 1 : 0;
}

// Connections that never complete a handshake: silent ones and ones that stop half-way
// through a ClientHello. Each waits for the server to close it; the time it took is reported.
int run_slowloris(run_context& rc) {
    const auto n = static_cast<std::size_t>(rc.opt.integer("connections", 100));
    const double duration = rc.opt.num("duration", 30);
    const double rate = rc.opt.num("rate", 0);
    const std::string hello = client_hello(*rc.tls);
    figures f;
    schedule_paced(rc.eng, n, rate, [&](std::size_t i) {
        auto* ctxp = &rc.eng.ctx(i);
        net::co_spawn(
            *ctxp,
            [&, ctxp, i]() -> net::awaitable<void> {
                tcp::socket s(*ctxp);
                net::steady_timer timer(*ctxp, after(duration));
                timer.async_wait([&s](error_code ec) {
                    if (!ec) s.close(ec);
                });
                ++f.attempted;
                error_code ec;
                co_await s.async_connect(rc.target, with(ec));
                if (ec) co_return timer.cancel(), f.fail("connect_" + error_name(ec));
                const auto start = clock_type::now();
                if (i % 2 == 1) {
                    co_await net::async_write(s, net::buffer(hello.data(), hello.size() / 2),
                                              with(ec));
                    f.count("half_hello_clients");
                } else {
                    f.count("silent_clients");
                }
                char buf[256];
                for (;;) {
                    const auto got = co_await s.async_read_some(net::buffer(buf), with(ec));
                    if (ec || got == 0) break;
                }
                if (!s.is_open()) co_return f.fail("not_closed_by_server");
                timer.cancel();
                f.latency(since(start) * 1000.0);
                ++f.ok;
            },
            net::detached);
    });
    rc.eng.run((rate > 0 ? n / rate : 0) + duration + 10);
    rc.out.put("connections", static_cast<std::uint64_t>(n));
    rc.out.put("closed_by_server", static_cast<std::uint64_t>(f.ok));
    put_figures(rc.out, f, "closed_after");
    return f.failed ? 1 : 0;
}

// Clients that complete the handshake, then send without ever reading: the echo backs up
// until the server gives up on the stalled writes and closes them.
int run_stop_reading(run_context& rc) {
    const auto n = static_cast<std::size_t>(rc.opt.integer("connections", 10));
    const double duration = rc.opt.num("duration", 30);
    figures f;
    for (std::size_t i = 0; i < n; ++i) {
        auto* ctxp = &rc.eng.ctx(i);
        net::co_spawn(
            *ctxp,
            [&, ctxp]() -> net::awaitable<void> {
                auto c = tls_conn::make(*ctxp, *rc.tls);
                c->deadline(rc.timeout_s);
                ++f.attempted;
                if (auto ec = co_await c->connect(rc.target))
                    co_return f.fail(failure("connect", *c, ec));
                if (auto ec = co_await c->handshake())
                    co_return f.fail(failure("handshake", *c, ec));
                c->deadline(duration);
                const auto start = clock_type::now();
                const std::string chunk(16384, 's');
                std::uint64_t sent = 0;
                for (;;) {
                    if (auto ec = co_await c->write(chunk.data(), chunk.size())) {
                        if (c->timed_out()) co_return f.fail("not_closed_by_server");
                        break;
                    }
                    sent += chunk.size();
                }
                f.bytes += sent;
                f.latency(since(start) * 1000.0);
                ++f.ok;
                c->close();
            },
            net::detached);
    }
    rc.eng.run(duration + rc.timeout_s + 10);
    rc.out.put("connections", static_cast<std::uint64_t>(n));
    rc.out.put("closed_by_server", static_cast<std::uint64_t>(f.ok));
    rc.out.put("bytes_sent_before_close", static_cast<std::uint64_t>(f.bytes));
    put_figures(rc.out, f, "closed_after");
    return f.failed ? 1 : 0;
}

}  // namespace loadgen
