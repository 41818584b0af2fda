// site: the site-server replay. N long-lived clients connect at a slow rate and exchange a
// message every few seconds; each connection ends after a random lifetime and the client
// reconnects (churn). A fraction of the clients stop reading mid-stream on every connection
// (they keep sending until the server cuts them loose), another fraction vanish: they go
// silent with the socket left open. A stuck client comes back at once on a new connection,
// as a real machine would, while the server is expected to reap the old one.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cmath>
#include <cstdio>

#include "modes.hpp"

namespace loadgen {

namespace {

clock_type::duration seconds(double s) {
    return std::chrono::duration_cast<clock_type::duration>(std::chrono::duration<double>(s));
}

net::awaitable<void> sleep_until(net::io_context& ctx, clock_type::time_point t) {
    net::steady_timer timer(ctx, t);
    error_code ec;
    co_await timer.async_wait(with(ec));
}

enum class fate { normal, stop_reading, vanish };

struct site_state {
    site_state(run_context& r, clock_type::time_point e, double i, double l, std::size_t m, std::size_t mx)
        : rc(r), end(e), interval(i), lifetime(l), message(m), message_max(std::max(m, mx)) {}
    run_context& rc;
    clock_type::time_point end;
    double interval, lifetime;
    std::size_t message, message_max;  // each message's size is drawn from [message, message_max]
    figures f;                         // attempted/ok/failed: connections; latency: handshake
    std::atomic<std::uint64_t> live{0}, stuck{0}, exchanges{0}, exchange_failures{0}, churn{0};
    std::atomic<std::uint64_t> stalled_reaped{0}, vanished_reaped{0}, stuck_started{0};
    figures reap;  // latency: time from getting stuck to being closed by the server
};

// A client that stopped reading: sends until the server closes the connection.
net::awaitable<void> stop_reading(site_state& st, std::shared_ptr<tls_conn> c) {
    const auto since_stuck = clock_type::now();
    c->deadline(std::max(0.001, std::chrono::duration<double>(st.end - clock_type::now()).count()));
    const std::string chunk(16384, 'x');
    while (!(co_await c->write(chunk.data(), chunk.size()))) {
    }
    if (!c->timed_out()) {
        ++st.stalled_reaped;
        st.reap.other.add(since(since_stuck) * 1000.0);
    }
    c->close();
    --st.stuck;
}

// A client that vanished: nothing is sent or read; the socket waits until the server closes.
net::awaitable<void> vanish(site_state& st, std::shared_ptr<tls_conn> c) {
    const auto since_stuck = clock_type::now();
    c->deadline(std::max(0.001, std::chrono::duration<double>(st.end - clock_type::now()).count()));
    // Raw reads (the TLS session is abandoned): records still in flight are discarded
    // until the server's FIN or reset arrives.
    error_code ec;
    char buf[4096];
    while (!ec) co_await c->socket().async_read_some(net::buffer(buf), with(ec));
    if (!c->timed_out()) {
        ++st.vanished_reaped;
        st.reap.other.add(since(since_stuck) * 1000.0);
    }
    c->close();
    --st.stuck;
}

net::awaitable<void> client(site_state& st, net::io_context& ctx, std::size_t id, fate kind) {
    rng r(st.rc.seed * 0x9e3779b97f4a7c15ULL + id);
    std::string msg;
    while (clock_type::now() < st.end) {
        auto c = tls_conn::make(ctx, *st.rc.tls);
        c->deadline(st.rc.timeout_s);
        ++st.f.attempted;
        const auto why = co_await open_tls(st.rc, *c, st.f);
        if (!why.empty()) {
            st.f.fail(why);
            co_await sleep_until(ctx, clock_type::now() + std::chrono::seconds(1));
            continue;
        }
        ++st.f.ok;
        ++st.live;
        const double life = st.lifetime * (0.5 + r.uniform());
        const auto until = std::min(st.end, clock_type::now() + seconds(life));
        // A stuck client gets stuck somewhere in the first half of its connection's life
        // (not before its second message); when that falls after the end of the run, it
        // does not get stuck this time.
        const auto stuck_at = clock_type::now() + seconds(std::max(2 * st.interval, life / 2 * r.uniform()));
        bool stuck = false;
        for (;;) {
            const auto next = clock_type::now() + seconds(st.interval * (0.5 + r.uniform()));
            if (kind != fate::normal && next >= stuck_at && stuck_at < until) {
                stuck = true;
                break;
            }
            if (next >= until) break;
            co_await sleep_until(ctx, next);
            c->deadline(st.rc.timeout_s);
            std::size_t size = st.message;
            if (st.message_max > st.message)
                size = std::min(st.message_max,
                                size + static_cast<std::size_t>(r.uniform() *
                                                                static_cast<double>(st.message_max - st.message + 1)));
            msg.resize(size);
            r.fill(reinterpret_cast<unsigned char*>(msg.data()), msg.size());
            if (auto fail = co_await c->round_trip(msg); !fail.empty()) {
                if (clock_type::now() < st.end) {
                    ++st.exchange_failures;
                    st.f.count("exchange_" + fail);
                }
                break;
            }
            ++st.exchanges;
        }
        --st.live;
        if (stuck && clock_type::now() < st.end) {
            ++st.stuck;
            ++st.stuck_started;
            if (kind == fate::stop_reading) {
                net::co_spawn(ctx, stop_reading(st, c), net::detached);
            } else {
                net::co_spawn(ctx, vanish(st, c), net::detached);
            }
            continue;  // the machine comes back on a new connection at once
        }
        c->deadline(st.rc.timeout_s);
        co_await c->shutdown();
        if (until >= st.end) break;  // the run is over, not a reconnect
        ++st.churn;
        co_await sleep_until(ctx, std::min(st.end, clock_type::now() + seconds(2 * r.uniform())));
    }
}

}  // namespace

int run_site(run_context& rc) {
    const auto n = static_cast<std::size_t>(rc.opt.integer("clients", 2025));
    const double rate = rc.opt.num("rate", 10);
    const double duration = rc.opt.num("duration", 1800);
    const double stop_fraction = rc.opt.num("stop-reading-fraction", 0.10);
    const double vanish_fraction = rc.opt.num("vanish-fraction", 0.05);
    const double every = rc.opt.num("progress", 10);
    site_state st(rc, clock_type::now() + seconds(duration), rc.opt.num("interval", 3), rc.opt.num("lifetime", 300),
                  static_cast<std::size_t>(rc.opt.integer("message", 200)),
                  static_cast<std::size_t>(rc.opt.integer("message-max", 0)));
    const auto t0 = clock_type::now();
    // Client kinds are spread evenly: every 20th client vanishes, every 10th (of the rest)
    // stops reading, for the default fractions.
    auto kind_of = [&](std::size_t i) {
        const double x = std::fmod(static_cast<double>(i) * 0.6180339887498949, 1.0);
        if (x < vanish_fraction) return fate::vanish;
        if (x < vanish_fraction + stop_fraction) return fate::stop_reading;
        return fate::normal;
    };
    std::size_t kinds[3] = {0, 0, 0};
    for (std::size_t i = 0; i < n; ++i) ++kinds[static_cast<int>(kind_of(i))];
    schedule_paced(rc.eng, n, rate, [&](std::size_t i) {
        auto& ctx = rc.eng.ctx(i);
        net::co_spawn(ctx, client(st, ctx, i, kind_of(i)), net::detached);
    });
    progress(
        rc.eng, every, [&] { return clock_type::now() < st.end; },
        [&] {
            char line[300];
            std::snprintf(line, sizeof line,
                          "site: %.0f s live %llu stuck %llu connects %llu failed %llu exchanges %llu "
                          "exchange_failures %llu reaped %llu",
                          since(t0), static_cast<unsigned long long>(st.live.load()),
                          static_cast<unsigned long long>(st.stuck.load()),
                          static_cast<unsigned long long>(st.f.ok.load()),
                          static_cast<unsigned long long>(st.f.failed.load()),
                          static_cast<unsigned long long>(st.exchanges.load()),
                          static_cast<unsigned long long>(st.exchange_failures.load()),
                          static_cast<unsigned long long>(st.stalled_reaped + st.vanished_reaped));
            return std::string(line);
        });
    const bool in_time = run_engine(rc, duration + rc.timeout_s * 3 + 10);
    rc.out.put("clients", static_cast<std::uint64_t>(n));
    rc.out.put("normal_clients", static_cast<std::uint64_t>(kinds[0]));
    rc.out.put("stop_reading_clients", static_cast<std::uint64_t>(kinds[1]));
    rc.out.put("vanishing_clients", static_cast<std::uint64_t>(kinds[2]));
    rc.out.put("elapsed_s", since(t0));
    rc.out.put("connects", static_cast<std::uint64_t>(st.f.ok));
    rc.out.put("connect_failures", static_cast<std::uint64_t>(st.f.failed));
    rc.out.put("exchanges", static_cast<std::uint64_t>(st.exchanges));
    rc.out.put("exchange_failures", static_cast<std::uint64_t>(st.exchange_failures));
    rc.out.put("churn_closes", static_cast<std::uint64_t>(st.churn));
    rc.out.put("stuck_started", static_cast<std::uint64_t>(st.stuck_started));
    rc.out.put("stalled_reaped", static_cast<std::uint64_t>(st.stalled_reaped));
    rc.out.put("vanished_reaped", static_cast<std::uint64_t>(st.vanished_reaped));
    const auto p = st.reap.other.percentiles();
    rc.out.put("reap_p50_ms", p[0]);
    rc.out.put("reap_p99_ms", p[2]);
    rc.out.put("reap_max_ms", p[3]);
    put_figures(rc.out, st.f, "");
    return (st.f.failed || st.exchange_failures || !in_time) ? 1 : 0;
}

}  // namespace loadgen
