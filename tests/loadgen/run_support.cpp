// What the modes share: opening a TLS connection, the run's deadline, pacing, progress.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <cstdio>

#include "modes.hpp"

namespace loadgen {

namespace {
// A PROXY header naming `src` → `dst`, as a balancer in front of the broker sends it.
std::string proxy_header(int version, const tcp::endpoint& src, const tcp::endpoint& dst) {
    const bool v4 = src.address().is_v4();
    if (version == 1)
        return std::string(v4 ? "PROXY TCP4 " : "PROXY TCP6 ") + src.address().to_string() + " " +
               dst.address().to_string() + " " + std::to_string(src.port()) + " " + std::to_string(dst.port()) + "\r\n";
    std::string h("\r\n\r\n\0\r\nQUIT\n\x21", 13);
    std::string body;
    for (const auto& a : {src.address(), dst.address()}) {
        if (v4) {
            const auto b = a.to_v4().to_bytes();
            body.append(reinterpret_cast<const char*>(b.data()), b.size());
        } else {
            const auto b = a.to_v6().to_bytes();
            body.append(reinterpret_cast<const char*>(b.data()), b.size());
        }
    }
    for (const auto port : {src.port(), dst.port()}) {
        body.push_back(static_cast<char>(port >> 8));
        body.push_back(static_cast<char>(port & 0xFF));
    }
    h.push_back(v4 ? '\x11' : '\x21');
    h.push_back(static_cast<char>(body.size() >> 8));
    h.push_back(static_cast<char>(body.size() & 0xFF));
    return h + body;
}

}  // namespace

net::awaitable<std::string> open_tls(run_context& rc, tls_conn& c, figures& f, SSL_SESSION* resume) {
    const auto start = clock_type::now();
    if (auto ec = co_await c.connect(rc.target)) co_return failure("connect", c, ec);
    if (rc.proxy_header != 0) {
        error_code ec;
        const auto local = c.socket().local_endpoint(ec);
        const auto h = proxy_header(rc.proxy_header, local, rc.target);
        if (!ec) co_await net::async_write(c.socket(), net::buffer(h), with(ec));
        if (ec) co_return failure("connect", c, ec);
    }
    if (auto ec = co_await c.handshake(rc.sni, rc.check_name, resume)) co_return failure("handshake", c, ec);
    f.setup.add(since(start) * 1000.0);
    co_return std::string();
}

bool run_engine(run_context& rc, double natural_s) {
    const double limit = rc.deadline_s > 0 ? rc.deadline_s : std::max(60.0, natural_s);
    const bool in_time = rc.eng.run(limit);
    rc.out.put("deadline_s", limit);
    rc.out.put("deadline_hit", !in_time);
    if (!in_time) std::fprintf(stderr, "tlsbroker-loadgen: deadline of %.1f s reached, run cut short\n", limit);
    return in_time;
}

void schedule_paced(engine& eng, std::size_t n, double rate, std::function<void(std::size_t)> start,
                    std::function<bool()> stopped) {
    const auto t0 = clock_type::now();
    for (std::size_t t = 0; t < eng.size(); ++t) {
        auto* ctx = &eng.ctx(t);
        net::co_spawn(
            *ctx,
            [ctx, t, n, rate, start, stopped, t0, step = eng.size()]() -> net::awaitable<void> {
                net::steady_timer timer(*ctx);
                for (std::size_t i = t; i < n; i += step) {
                    if (rate > 0) {
                        timer.expires_at(t0 + std::chrono::microseconds(static_cast<long long>(i * 1e6 / rate)));
                        error_code ec;
                        co_await timer.async_wait(with(ec));
                    }
                    if (stopped && stopped()) break;
                    start(i);
                }
            },
            net::detached);
    }
}

void progress(engine& eng, double every_s, std::function<bool()> running, std::function<std::string()> line) {
    auto* ctx = &eng.ctx(0);
    net::co_spawn(
        *ctx,
        [ctx, every_s, running, line]() -> net::awaitable<void> {
            // Short ticks, so that the run ends soon after `running` turns false.
            net::steady_timer timer(*ctx);
            const auto every = std::chrono::milliseconds(static_cast<long long>(every_s * 1000));
            auto next = clock_type::now() + every;
            while (running()) {
                timer.expires_after(std::chrono::milliseconds(100));
                error_code ec;
                co_await timer.async_wait(with(ec));
                if (clock_type::now() < next || !running()) continue;
                next += every;
                std::fprintf(stderr, "%s\n", line().c_str());
            }
        },
        net::detached);
}

std::string payload(std::uint64_t seed, std::uint64_t stream, std::size_t n) {
    std::string data(n, '\0');
    rng(seed * 1000003 + stream).fill(reinterpret_cast<unsigned char*>(data.data()), n);
    return data;
}

}  // namespace loadgen
