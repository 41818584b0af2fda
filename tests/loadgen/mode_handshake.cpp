// handshake: full (or, with --resume, resumed) handshakes at a fixed concurrency for a
// duration. Each connection makes one small round trip, so that the backend path is part
// of it and a TLS 1.3 server's session ticket has arrived before the session is kept.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>

#include "modes.hpp"

namespace loadgen {

int run_handshake(run_context& rc) {
    const auto concurrency = static_cast<std::size_t>(rc.opt.integer("concurrency", 16));
    const double duration = rc.opt.num("duration", 10);
    const bool resume = rc.opt.flag("resume");
    figures f;
    std::atomic<std::uint64_t> offered{0};
    const auto t0 = clock_type::now();
    const auto end = after(duration);
    for (std::size_t w = 0; w < concurrency; ++w) {
        auto* ctxp = &rc.eng.ctx(w);
        net::co_spawn(
            *ctxp,
            [&, ctxp]() -> net::awaitable<void> {
                session_ptr last;
                const std::string msg(32, 'h');
                while (clock_type::now() < end) {
                    auto c = tls_conn::make(*ctxp, *rc.tls);
                    c->deadline(rc.timeout_s);
                    ++f.attempted;
                    const bool offering = resume && last;
                    if (offering) ++offered;
                    auto why = co_await open_tls(rc, *c, f, offering ? last.get() : nullptr);
                    if (why.empty()) {
                        if (c->resumed()) ++f.resumed;
                        why = co_await c->round_trip(msg);
                    }
                    if (!why.empty()) {
                        f.fail(why);
                        last.reset();
                        continue;
                    }
                    if (resume) {
                        if (auto s = c->session()) last = std::move(s);
                    }
                    ++f.ok;
                    co_await c->shutdown();
                }
            },
            net::detached);
    }
    const bool in_time = run_engine(rc, duration + rc.timeout_s * 3 + 5);
    const double elapsed = std::max(since(t0), 1e-3);
    rc.out.put("elapsed_s", elapsed);
    rc.out.put("concurrency", static_cast<std::uint64_t>(concurrency));
    rc.out.put("handshakes_per_s", static_cast<double>(f.ok) / elapsed);
    rc.out.put("resume_offered", static_cast<std::uint64_t>(offered));
    rc.out.put("resumed", static_cast<std::uint64_t>(f.resumed));
    rc.out.put("resumed_per_s", static_cast<double>(f.resumed) / elapsed);
    rc.out.put("full_per_s", static_cast<double>(f.ok - std::min(f.ok.load(), f.resumed.load())) / elapsed);
    put_figures(rc.out, f, "");
    return (f.failed || !in_time) ? 1 : 0;
}

}  // namespace loadgen
