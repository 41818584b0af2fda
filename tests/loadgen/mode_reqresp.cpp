// reqresp: C connections each write a --size message and read its echo back before writing
// the next, for --duration seconds: the request/response shape of the site protocol.
// Reports round trips per second and the round-trip latency; every echoed byte is compared.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <cstring>

#include "modes.hpp"

namespace loadgen {

int run_reqresp(run_context& rc) {
    const auto concurrency = static_cast<std::size_t>(rc.opt.integer("concurrency", 4));
    const auto size = static_cast<std::size_t>(rc.opt.size("size", 16384));
    const double duration = rc.opt.num("duration", 10);
    if (concurrency == 0 || size == 0) throw std::invalid_argument("--concurrency and --size must be at least 1");
    figures f;
    std::atomic<std::uint64_t> trips{0}, mismatches{0};
    const auto t0 = clock_type::now();
    const auto end = after(duration);
    for (std::size_t w = 0; w < concurrency; ++w) {
        auto* ctxp = &rc.eng.ctx(w);
        net::co_spawn(
            *ctxp,
            [&, ctxp, w]() -> net::awaitable<void> {
                // Two messages that differ, sent in turn: an echo of the previous one fails.
                std::vector<unsigned char> msg[2] = {std::vector<unsigned char>(size),
                                                     std::vector<unsigned char>(size)};
                rng(rc.seed * 7919 + w).fill(msg[0].data(), size);
                rng(rc.seed * 7919 + w + 104729).fill(msg[1].data(), size);
                std::vector<unsigned char> back(size);
                auto c = tls_conn::make(*ctxp, *rc.tls);
                c->deadline(rc.timeout_s);
                ++f.attempted;
                if (auto why = co_await open_tls(rc, *c, f); !why.empty()) co_return f.fail(why);
                std::uint64_t n = 0;
                while (clock_type::now() < end) {
                    const auto& m = msg[n % 2];
                    c->deadline(rc.timeout_s);
                    const auto begun = clock_type::now();
                    if (auto ec = co_await c->write(m.data(), size)) co_return f.fail(failure("write", *c, ec));
                    if (auto ec = co_await c->read_exact(back.data(), size)) co_return f.fail(failure("read", *c, ec));
                    f.other.add(std::chrono::duration<double, std::milli>(clock_type::now() - begun).count());
                    if (std::memcmp(back.data(), m.data(), size) != 0) {
                        ++mismatches;
                        co_return f.fail("mismatch");
                    }
                    ++n;
                    ++trips;
                }
                f.bytes += n * size;
                ++f.ok;
                c->close();
            },
            net::detached);
    }
    const bool in_time = run_engine(rc, duration + rc.timeout_s * 2 + 5);
    // The loops end at `end`: the rate is over the run's length (handshakes included).
    const double elapsed = std::max(std::min(since(t0), duration), 1e-3);
    const auto p = f.other.percentiles();
    rc.out.put("concurrency", static_cast<std::uint64_t>(concurrency));
    rc.out.put("size", static_cast<std::uint64_t>(size));
    rc.out.put("elapsed_s", elapsed);
    rc.out.put("round_trips", static_cast<std::uint64_t>(trips));
    rc.out.put("round_trips_per_s", static_cast<double>(trips) / elapsed);
    rc.out.put("round_trip_p50_ms", p[0]);
    rc.out.put("round_trip_p99_ms", p[2]);
    rc.out.put("verification_errors", static_cast<std::uint64_t>(mismatches));
    put_figures(rc.out, f, "");
    return (f.failed || f.ok != concurrency || !in_time) ? 1 : 0;
}

}  // namespace loadgen
