// throughput: C connections send a random pattern through the echo path as fast as it goes
// (or at --max-mbps in total), for --duration seconds or until --bytes in total were sent,
// and compare every byte that comes back.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cstdio>
#include <cstring>

#include "modes.hpp"

namespace loadgen {

namespace {
// The pattern one connection sends over and over; an odd length so that chunk boundaries
// move through it.
constexpr std::size_t pattern_size = 1048573;
}  // namespace

int run_throughput(run_context& rc) {
    using namespace net::experimental::awaitable_operators;
    const auto concurrency = static_cast<std::size_t>(rc.opt.integer("concurrency", 8));
    const std::uint64_t total = rc.opt.size("bytes", 0);
    const double duration = rc.opt.num("duration", total ? 60 : 10);
    const double max_mbps = rc.opt.num("max-mbps", 0);
    const auto chunk = static_cast<std::size_t>(rc.opt.size("chunk", 16384));
    if (concurrency == 0 || chunk == 0) throw std::invalid_argument("--concurrency and --chunk must be at least 1");
    const std::uint64_t quota = total ? (total + concurrency - 1) / concurrency : 0;
    figures f;
    std::atomic<std::uint64_t> echoed{0}, mismatches{0};
    std::atomic<double> last_end{0};
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
                if (auto why = co_await open_tls(rc, *c, f); !why.empty()) co_return f.fail(why);
                c->deadline(duration + rc.timeout_s);
                std::uint64_t sent = 0, got = 0;
                bool writer_done = false;
                std::string why;
                auto writer = [&]() -> net::awaitable<void> {
                    net::steady_timer pace(*ctxp);
                    const double per_conn = max_mbps * 1e6 / static_cast<double>(concurrency);
                    while (clock_type::now() < end && why.empty() && (!quota || sent < quota)) {
                        if (per_conn > 0 && sent > per_conn * since(t0)) {
                            pace.expires_after(std::chrono::milliseconds(5));
                            error_code ec;
                            co_await pace.async_wait(net::redirect_error(net::use_awaitable, ec));
                            continue;
                        }
                        const auto off = sent % pattern_size;
                        auto len = std::min(chunk, pattern_size - off);
                        if (quota) len = static_cast<std::size_t>(std::min<std::uint64_t>(len, quota - sent));
                        if (auto ec = co_await c->write(pattern.data() + off, len)) {
                            why = failure("write", *c, ec);
                            break;
                        }
                        sent += len;
                    }
                    if (quota && sent < quota && why.empty()) why = "bytes_incomplete";
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
                                std::size_t at = 0;
                                while (buf[done + at] == pattern[off + at]) ++at;
                                std::fprintf(stderr,
                                             "throughput: connection %zu (seed %llu): first "
                                             "difference at byte %llu\n",
                                             w, static_cast<unsigned long long>(rc.seed),
                                             static_cast<unsigned long long>(got + done + at));
                                ++mismatches;
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
                for (double e = last_end, now = since(t0); now > e && !last_end.compare_exchange_weak(e, now);) {
                }
                if (!why.empty()) co_return f.fail(why);
                f.bytes += got;
                ++f.ok;
                c->close();
            },
            net::detached);
    }
    const bool in_time = run_engine(rc, duration + rc.timeout_s * 3 + 5);
    const double elapsed = std::max(last_end > 0 ? last_end.load() : since(t0), 1e-3);
    rc.out.put("concurrency", static_cast<std::uint64_t>(concurrency));
    rc.out.put("elapsed_s", elapsed);
    rc.out.put("bytes_echoed", static_cast<std::uint64_t>(echoed));
    rc.out.put("bytes_verified", static_cast<std::uint64_t>(f.bytes));
    rc.out.put("mb_per_s", static_cast<double>(echoed) / 1e6 / elapsed);
    rc.out.put("verification_errors", static_cast<std::uint64_t>(mismatches));
    put_figures(rc.out, f, "");
    return (f.failed || f.ok != concurrency || !in_time) ? 1 : 0;
}

}  // namespace loadgen
