// handshake, hold and verify modes, and the pacing helpers.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <mutex>

#include "modes.hpp"
#include "tls_conn.hpp"

namespace loadgen {

namespace {
auto with(error_code& ec) { return net::redirect_error(net::use_awaitable, ec); }
double ms_since(clock_type::time_point t) { return since(t) * 1000.0; }
}  // namespace

void schedule_paced(engine& eng, std::size_t n, double rate,
                    std::function<void(std::size_t)> start) {
    const auto t0 = clock_type::now();
    for (std::size_t t = 0; t < eng.size(); ++t) {
        auto* ctx = &eng.ctx(t);
        net::co_spawn(
            *ctx,
            [ctx, t, n, rate, start, t0, step = eng.size()]() -> net::awaitable<void> {
                net::steady_timer timer(*ctx);
                for (std::size_t i = t; i < n; i += step) {
                    if (rate > 0) {
                        timer.expires_at(
                            t0 + std::chrono::microseconds(static_cast<long long>(i * 1e6 / rate)));
                        error_code ec;
                        co_await timer.async_wait(with(ec));
                    }
                    start(i);
                }
            },
            net::detached);
    }
}

void progress(engine& eng, double every_s, std::function<bool()> running,
              std::function<std::string()> line) {
    auto* ctx = &eng.ctx(0);
    net::co_spawn(
        *ctx,
        [ctx, every_s, running, line]() -> net::awaitable<void> {
            // Short ticks, so that the run ends soon after `running` turns false.
            net::steady_timer timer(*ctx);
            auto next = clock_type::now() +
                        std::chrono::milliseconds(static_cast<long long>(every_s * 1000));
            while (running()) {
                timer.expires_after(std::chrono::milliseconds(200));
                error_code ec;
                co_await timer.async_wait(with(ec));
                if (clock_type::now() < next || !running()) continue;
                next += std::chrono::milliseconds(static_cast<long long>(every_s * 1000));
                std::fprintf(stderr, "%s\n", line().c_str());
            }
        },
        net::detached);
}

// Full (or, with --resume, resumed) handshakes at a fixed concurrency for a duration; each
// connection makes one small round trip so that the backend path is part of it.
int run_handshake(run_context& rc) {
    const auto concurrency = static_cast<std::size_t>(rc.opt.integer("concurrency", 16));
    const double duration = rc.opt.num("duration", 10);
    const bool resume = rc.opt.flag("resume");
    figures f;
    const auto t0 = clock_type::now();
    const auto end = t0 + std::chrono::duration_cast<clock_type::duration>(
                              std::chrono::duration<double>(duration));
    for (std::size_t w = 0; w < concurrency; ++w) {
        auto* ctxp = &rc.eng.ctx(w);
        net::co_spawn(
            *ctxp,
            [&, ctxp]() -> net::awaitable<void> {
                auto& ctx = *ctxp;
                session_ptr last;
                const std::string msg(32, 'h');
                while (clock_type::now() < end) {
                    auto c = tls_conn::make(ctx, *rc.tls);
                    c->deadline(rc.timeout_s);
                    ++f.attempted;
                    const auto start = clock_type::now();
                    if (auto ec = co_await c->connect(rc.target)) {
                        f.fail(failure("connect", *c, ec));
                        continue;
                    }
                    if (auto ec = co_await c->handshake(resume ? last.get() : nullptr)) {
                        f.fail(failure("handshake", *c, ec));
                        continue;
                    }
                    f.latency(ms_since(start));
                    if (c->resumed()) ++f.resumed;
                    if (auto why = co_await c->round_trip(msg); !why.empty()) {
                        f.fail(why);
                        continue;
                    }
                    if (resume) last = c->session();
                    ++f.ok;
                    co_await c->shutdown();
                }
            },
            net::detached);
    }
    rc.eng.run(duration + rc.timeout_s * 3 + 5);
    const double elapsed = since(t0);
    rc.out.put("elapsed_s", elapsed);
    rc.out.put("concurrency", static_cast<std::uint64_t>(concurrency));
    rc.out.put("handshakes_per_s", static_cast<double>(f.ok) / elapsed);
    rc.out.put("resumed", static_cast<std::uint64_t>(f.resumed));
    rc.out.put("resumed_per_s", static_cast<double>(f.resumed) / elapsed);
    put_figures(rc.out, f, "handshake");
    return f.failed ? 1 : 0;
}

// Opens N connections at a rate, each with one round trip, holds them, then closes them.
// The held connections keep a read outstanding: a server that drops one is noticed.
int run_hold(run_context& rc) {
    const auto n = static_cast<std::size_t>(rc.opt.integer("connections", 1000));
    const double rate = rc.opt.num("rate", 1000);
    const double hold = rc.opt.num("hold", 10);
    const std::string ready_file = rc.opt.str("ready-file", "");
    figures f;
    std::atomic<std::size_t> settled{0}, dropped{0}, held{0}, peak{0};
    std::atomic<bool> ending{false};
    std::mutex m;
    std::vector<std::weak_ptr<tls_conn>> live;
    const auto t0 = clock_type::now();
    clock_type::time_point established_at{};

    // Called when the last connection has settled: report, then end the hold after `hold` s.
    auto all_settled = [&] {
        established_at = clock_type::now();
        std::fprintf(stderr, "hold: established %llu failed %llu in %.1f s; holding %.0f s\n",
                     static_cast<unsigned long long>(f.ok.load()),
                     static_cast<unsigned long long>(f.failed.load()), since(t0), hold);
        if (!ready_file.empty()) std::ofstream(ready_file) << f.ok.load() << "\n";
        auto* ctxp = &rc.eng.ctx(0);
        net::co_spawn(
            *ctxp,
            [&, ctxp]() -> net::awaitable<void> {
                net::steady_timer timer(
                    *ctxp, std::chrono::milliseconds(static_cast<long long>(hold * 1000)));
                error_code ec;
                co_await timer.async_wait(with(ec));
                ending = true;
                std::lock_guard lock(m);
                for (std::size_t i = 0; i < live.size(); ++i) {
                    auto& c = rc.eng.ctx(i);
                    net::post(c, [w = live[i]] {
                        if (auto p = w.lock()) p->close();
                    });
                }
            },
            net::detached);
    };
    auto settle = [&] {
        if (++settled == n) all_settled();
    };
    live.resize(n);
    schedule_paced(rc.eng, n, rate, [&](std::size_t i) {
        auto* ctxp = &rc.eng.ctx(i);
        net::co_spawn(
            *ctxp,
            [&, i, ctxp]() -> net::awaitable<void> {
                auto& ctx = *ctxp;
                auto c = tls_conn::make(ctx, *rc.tls);
                {
                    std::lock_guard lock(m);
                    live[i] = c;
                }
                c->deadline(rc.timeout_s);
                ++f.attempted;
                const auto start = clock_type::now();
                std::string why;
                if (auto ec = co_await c->connect(rc.target)) why = failure("connect", *c, ec);
                if (why.empty())
                    if (auto ec = co_await c->handshake()) why = failure("handshake", *c, ec);
                if (why.empty()) why = co_await c->round_trip("hold");
                if (!why.empty()) {
                    f.fail(why);
                    settle();
                    co_return;
                }
                f.latency(ms_since(start));
                ++f.ok;
                const auto now_held = ++held;
                for (auto p = peak.load();
                     now_held > p && !peak.compare_exchange_weak(p, now_held);) {
                }
                c->deadline(0);
                settle();
                char byte;
                auto [ec, got] = co_await c->read_some(&byte, 1);
                --held;
                if (!ending) {
                    ++dropped;
                    f.count("dropped_" + error_name(ec));
                }
                c->close();
            },
            net::detached);
    });
    rc.eng.run(n / std::max(rate, 1.0) + hold + rc.timeout_s * 4 + 10);
    rc.out.put("connections", static_cast<std::uint64_t>(n));
    rc.out.put("established", static_cast<std::uint64_t>(f.ok));
    rc.out.put("peak_held", static_cast<std::uint64_t>(peak));
    rc.out.put("dropped_during_hold", static_cast<std::uint64_t>(dropped));
    rc.out.put("open_s", established_at == clock_type::time_point{}
                             ? -1.0
                             : std::chrono::duration<double>(established_at - t0).count());
    put_figures(rc.out, f, "establish");
    return (f.failed || dropped) ? 1 : 0;
}

// Random payloads sent and read back concurrently, compared byte for byte.
int run_verify(run_context& rc) {
    using namespace net::experimental::awaitable_operators;
    const auto n = static_cast<std::size_t>(rc.opt.integer("connections", 200));
    const auto concurrency = static_cast<std::size_t>(rc.opt.integer("concurrency", 16));
    const auto payload = static_cast<std::size_t>(rc.opt.integer("payload", 65536));
    figures f;
    std::atomic<std::size_t> next{0};
    const auto t0 = clock_type::now();
    for (std::size_t w = 0; w < concurrency; ++w) {
        auto* ctxp = &rc.eng.ctx(w);
        net::co_spawn(
            *ctxp,
            [&, ctxp]() -> net::awaitable<void> {
                auto& ctx = *ctxp;
                for (std::size_t i; (i = next++) < n;) {
                    rng r(rc.seed * 1000003 + i);
                    std::string data(payload, '\0');
                    r.fill(reinterpret_cast<unsigned char*>(data.data()), data.size());
                    auto c = tls_conn::make(ctx, *rc.tls);
                    c->deadline(rc.timeout_s);
                    ++f.attempted;
                    const auto start = clock_type::now();
                    if (auto ec = co_await c->connect(rc.target)) {
                        f.fail(failure("connect", *c, ec));
                        continue;
                    }
                    if (auto ec = co_await c->handshake()) {
                        f.fail(failure("handshake", *c, ec));
                        continue;
                    }
                    c->deadline(rc.timeout_s + static_cast<double>(payload) / 1e6);
                    // Writes in random chunk sizes while the echo is read back.
                    auto writer = [&]() -> net::awaitable<error_code> {
                        for (std::size_t off = 0; off < data.size();) {
                            const auto len =
                                std::min<std::size_t>(data.size() - off, 1 + r.next() % 20000);
                            if (auto ec = co_await c->write(data.data() + off, len)) co_return ec;
                            off += len;
                        }
                        co_return error_code{};
                    };
                    std::string back(payload, '\0');
                    const auto [wec, rec] =
                        co_await (writer() && c->read_exact(back.data(), back.size()));
                    if (wec || rec) {
                        f.fail(wec ? failure("write", *c, wec) : failure("read", *c, rec));
                        continue;
                    }
                    if (back != data) {
                        f.fail("mismatch");
                        continue;
                    }
                    f.latency(since(start) * 1000.0);
                    f.bytes += payload;
                    ++f.ok;
                    co_await c->shutdown();
                }
            },
            net::detached);
    }
    rc.eng.run(static_cast<double>(n) * (rc.timeout_s + payload / 1e6) + 10);
    rc.out.put("elapsed_s", since(t0));
    rc.out.put("payload", static_cast<std::uint64_t>(payload));
    rc.out.put("bytes_verified", static_cast<std::uint64_t>(f.bytes));
    put_figures(rc.out, f, "connection");
    return (f.failed || f.ok != n) ? 1 : 0;
}

}  // namespace loadgen
