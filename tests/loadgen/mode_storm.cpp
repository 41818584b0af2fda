// reset-storm: connections at a fixed rate, a fraction of them reset right after connect
// (SO_LINGER 0), the others real TLS clients that make a round trip with a random payload.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cstdio>

#include "modes.hpp"

namespace loadgen {

int run_reset_storm(run_context& rc) {
    const auto n = static_cast<std::size_t>(rc.opt.integer("connections", 10000));
    const double rate = rc.opt.num("rate", 500);
    const double fraction = rc.opt.num("reset-fraction", 0.5);
    const auto size = static_cast<std::size_t>(rc.opt.size("payload", 512));
    const double every = rc.opt.num("progress", 10);
    figures real;
    std::atomic<std::uint64_t> resets{0}, reset_failed{0}, started{0}, finished{0};
    const auto t0 = clock_type::now();
    std::atomic<double> schedule_s{0};

    schedule_paced(rc.eng, n, rate, [&](std::size_t i) {
        if (++started == n) schedule_s = since(t0);
        rng r(rc.seed * 0x100000001b3ULL + i);
        auto* ctxp = &rc.eng.ctx(i);
        if (r.uniform() < fraction) {
            net::co_spawn(
                *ctxp,
                [&, ctxp]() -> net::awaitable<void> {
                    tcp::socket s(*ctxp);
                    error_code ec;
                    co_await s.async_connect(rc.target, net::redirect_error(net::use_awaitable, ec));
                    if (ec) {
                        ++reset_failed;
                    } else {
                        s.set_option(net::socket_base::linger(true, 0), ec);
                        ++resets;
                    }
                    s.close(ec);
                    ++finished;
                },
                net::detached);
            return;
        }
        std::string msg = payload(rc.seed, i, size);
        net::co_spawn(
            *ctxp,
            [&, ctxp, msg = std::move(msg)]() -> net::awaitable<void> {
                auto c = tls_conn::make(*ctxp, *rc.tls);
                c->deadline(rc.timeout_s);
                ++real.attempted;
                const auto start = clock_type::now();
                auto why = co_await open_tls(rc, *c, real);
                if (why.empty()) why = co_await c->round_trip(msg);
                if (why.empty()) {
                    real.other.add(since(start) * 1000.0);
                    ++real.ok;
                    co_await c->shutdown();
                } else {
                    real.fail(why);
                }
                ++finished;
            },
            net::detached);
    });
    progress(
        rc.eng, every, [&] { return finished < n; },
        [&] {
            char line[200];
            std::snprintf(
                line, sizeof line, "reset-storm: %.0f s started %llu resets %llu real ok %llu failed %llu", since(t0),
                static_cast<unsigned long long>(started.load()), static_cast<unsigned long long>(resets.load()),
                static_cast<unsigned long long>(real.ok.load()), static_cast<unsigned long long>(real.failed.load()));
            return std::string(line);
        });
    const bool in_time = run_engine(rc, n / std::max(rate, 1.0) + rc.timeout_s * 3 + 5);
    const double elapsed = since(t0);
    const double sched = schedule_s > 0 ? schedule_s.load() : elapsed;
    rc.out.put("connections", static_cast<std::uint64_t>(n));
    rc.out.put("elapsed_s", elapsed);
    rc.out.put("connect_rate_per_s", static_cast<double>(n) / std::max(sched, 0.001));
    rc.out.put("resets", static_cast<std::uint64_t>(resets));
    rc.out.put("reset_connect_failed", static_cast<std::uint64_t>(reset_failed));
    rc.out.put("real_clients", static_cast<std::uint64_t>(real.attempted));
    rc.out.put("real_served", static_cast<std::uint64_t>(real.ok));
    rc.out.put("real_failed", static_cast<std::uint64_t>(real.failed));
    put_figures(rc.out, real, "real_client");
    const bool all_done = finished == n;
    if (!all_done) rc.out.put("unfinished", static_cast<std::uint64_t>(n - finished));
    return (real.failed || reset_failed || !all_done || !in_time) ? 1 : 0;
}

}  // namespace loadgen
