// hold: opens N connections at a rate, each with one round trip of --payload bytes, holds
// them for --hold seconds (or until SIGTERM/SIGINT), then closes them. The held connections
// keep a read outstanding: a server that drops one is noticed and counted.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <stdexcept>

#include "modes.hpp"

namespace loadgen {

int run_hold(run_context& rc) {
    const auto n = static_cast<std::size_t>(rc.opt.integer("connections", 1000));
    const double rate = rc.opt.num("rate", 1000);
    const double hold = rc.opt.num("hold", 10);
    const auto size = static_cast<std::size_t>(rc.opt.size("payload", 64));
    const std::string ready_file = rc.opt.str("ready-file", "");
    if (n == 0) throw std::invalid_argument("--connections must be at least 1");
    figures f;
    std::atomic<std::size_t> settled{0}, dropped{0}, held{0}, peak{0}, active{0};
    std::atomic<bool> ending{false}, all_done{false}, by_signal{false};
    std::mutex m;
    std::vector<std::weak_ptr<tls_conn>> live(n);
    const auto t0 = clock_type::now();
    std::atomic<double> open_s{-1};
    auto& ctx0 = rc.eng.ctx(0);
    net::steady_timer hold_timer(ctx0);
    net::signal_set signals(ctx0, SIGINT, SIGTERM);

    // Runs on ctx0: closes every live connection on its own thread.
    auto end_hold = [&] {
        if (ending.exchange(true)) return;
        error_code ignored;
        signals.cancel(ignored);
        hold_timer.cancel();
        std::lock_guard lock(m);
        for (std::size_t i = 0; i < live.size(); ++i)
            net::post(rc.eng.ctx(i), [w = live[i]] {
                if (auto p = w.lock()) p->close();
            });
        if (active == 0) all_done = true;
    };
    auto leave = [&] {
        if (--active == 0 && ending) all_done = true;
    };
    // The last connection has settled: report, then hold for `hold` seconds.
    auto all_settled = [&] {
        open_s = since(t0);
        std::fprintf(stderr, "hold: established %llu failed %llu in %.1f s; holding %.0f s\n",
                     static_cast<unsigned long long>(f.ok.load()), static_cast<unsigned long long>(f.failed.load()),
                     since(t0), hold);
        if (!ready_file.empty()) std::ofstream(ready_file) << f.ok.load() << "\n";
        net::post(ctx0, [&] {
            if (f.ok == 0) return end_hold();  // nothing to hold
            if (ending) return;
            hold_timer.expires_after(std::chrono::milliseconds(static_cast<long long>(hold * 1000)));
            hold_timer.async_wait([&](error_code) { end_hold(); });
        });
    };
    signals.async_wait([&](error_code ec, int) {
        if (ec) return;
        by_signal = true;
        std::fprintf(stderr, "hold: signal, closing\n");
        end_hold();
    });

    schedule_paced(
        rc.eng, n, rate,
        [&](std::size_t i) {
            ++active;
            if (ending) return leave();
            auto* ctxp = &rc.eng.ctx(i);
            net::co_spawn(
                *ctxp,
                [&, i, ctxp]() -> net::awaitable<void> {
                    auto c = tls_conn::make(*ctxp, *rc.tls);
                    {
                        std::lock_guard lock(m);
                        live[i] = c;
                    }
                    c->deadline(rc.timeout_s);
                    ++f.attempted;
                    const auto start = clock_type::now();
                    auto why = co_await open_tls(rc, *c, f);
                    if (why.empty()) why = co_await c->round_trip(payload(rc.seed, i, size));
                    if (!why.empty()) {
                        if (ending) {
                            f.count("interrupted");
                        } else {
                            f.fail(why);
                        }
                        if (++settled == n) all_settled();
                        co_return leave();
                    }
                    f.other.add(since(start) * 1000.0);
                    ++f.ok;
                    const auto now_held = ++held;
                    for (auto p = peak.load(); now_held > p && !peak.compare_exchange_weak(p, now_held);) {
                    }
                    c->deadline(0);
                    if (++settled == n) all_settled();
                    char byte;
                    if (!ending) {
                        auto [ec, got] = co_await c->read_some(&byte, 1);
                        if (!ending) {
                            ++dropped;
                            f.count("dropped_" + (got ? std::string("data") : error_name(ec)));
                        }
                    }
                    --held;
                    c->close();
                    leave();
                },
                net::detached);
        },
        [&] { return ending.load(); });
    progress(
        rc.eng, 1.0, [&] { return !all_done; },
        [&] {
            char line[200];
            std::snprintf(
                line, sizeof line, "hold: %.0f s established %llu held %llu failed %llu dropped %llu", since(t0),
                static_cast<unsigned long long>(f.ok.load()), static_cast<unsigned long long>(held.load()),
                static_cast<unsigned long long>(f.failed.load()), static_cast<unsigned long long>(dropped.load()));
            return std::string(line);
        });
    const bool in_time = run_engine(rc, static_cast<double>(n) / std::max(rate, 1.0) + hold + rc.timeout_s * 2 + 5);
    rc.out.put("connections", static_cast<std::uint64_t>(n));
    rc.out.put("payload", static_cast<std::uint64_t>(size));
    rc.out.put("established", static_cast<std::uint64_t>(f.ok));
    rc.out.put("peak_held", static_cast<std::uint64_t>(peak));
    rc.out.put("dropped_during_hold", static_cast<std::uint64_t>(dropped));
    rc.out.put("open_s", open_s.load());
    rc.out.put("ended_by_signal", by_signal.load());
    rc.out.put("elapsed_s", since(t0));
    put_figures(rc.out, f, "establish");
    return (f.failed || dropped || !in_time) ? 1 : 0;
}

}  // namespace loadgen
