// verify: each of N connections (C at a time) sends a random payload of --payload bytes
// (written in random chunk sizes while the echo is read back), reads back exactly as many
// bytes and compares them; a mismatch names the connection and offset, and --seed replays it.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <cstdio>

#include "modes.hpp"

namespace loadgen {

int run_verify(run_context& rc) {
    using namespace net::experimental::awaitable_operators;
    const auto concurrency = static_cast<std::size_t>(rc.opt.integer("concurrency", 16));
    const auto n = static_cast<std::size_t>(rc.opt.integer("connections", static_cast<long long>(concurrency)));
    const auto size = static_cast<std::size_t>(rc.opt.size("payload", 65536));
    figures f;
    std::atomic<std::size_t> next{0};
    std::atomic<std::uint64_t> mismatches{0};
    const auto t0 = clock_type::now();
    // A connection may take a step's timeout plus the time to move its payload at 1 MB/s.
    const double per_connection = rc.timeout_s + static_cast<double>(size) / 1e6;
    for (std::size_t w = 0; w < concurrency; ++w) {
        auto* ctxp = &rc.eng.ctx(w);
        net::co_spawn(
            *ctxp,
            [&, ctxp]() -> net::awaitable<void> {
                for (std::size_t i; (i = next++) < n;) {
                    const std::string data = payload(rc.seed, i, size);
                    rng chunks(rc.seed ^ (0x5bd1e995ULL * (i + 1)));
                    auto c = tls_conn::make(*ctxp, *rc.tls);
                    c->deadline(rc.timeout_s);
                    ++f.attempted;
                    const auto start = clock_type::now();
                    if (auto why = co_await open_tls(rc, *c, f); !why.empty()) {
                        f.fail(why);
                        continue;
                    }
                    c->deadline(per_connection);
                    auto writer = [&]() -> net::awaitable<error_code> {
                        for (std::size_t off = 0; off < data.size();) {
                            const auto len = std::min<std::size_t>(data.size() - off, 1 + chunks.next() % 20000);
                            if (auto ec = co_await c->write(data.data() + off, len)) co_return ec;
                            off += len;
                        }
                        co_return error_code{};
                    };
                    std::string back(size, '\0');
                    const auto [wec, rec] = co_await (writer() && c->read_exact(back.data(), back.size()));
                    if (wec || rec) {
                        f.fail(wec ? failure("write", *c, wec) : failure("read", *c, rec));
                        continue;
                    }
                    if (back != data) {
                        std::size_t at = 0;
                        while (at < size && back[at] == data[at]) ++at;
                        std::fprintf(stderr,
                                     "verify: connection %zu (seed %llu): first difference at "
                                     "byte %zu of %zu\n",
                                     i, static_cast<unsigned long long>(rc.seed), at, size);
                        ++mismatches;
                        f.fail("mismatch");
                        continue;
                    }
                    f.other.add(since(start) * 1000.0);
                    f.bytes += size;
                    ++f.ok;
                    co_await c->shutdown();
                }
            },
            net::detached);
    }
    const auto rounds = (n + std::max<std::size_t>(concurrency, 1) - 1) / std::max<std::size_t>(concurrency, 1);
    const bool in_time = run_engine(rc, static_cast<double>(rounds) * per_connection + 5);
    rc.out.put("elapsed_s", since(t0));
    rc.out.put("connections", static_cast<std::uint64_t>(n));
    rc.out.put("concurrency", static_cast<std::uint64_t>(concurrency));
    rc.out.put("payload", static_cast<std::uint64_t>(size));
    rc.out.put("bytes_verified", static_cast<std::uint64_t>(f.bytes));
    rc.out.put("mismatches", static_cast<std::uint64_t>(mismatches));
    put_figures(rc.out, f, "connection");
    return (f.failed || f.ok != n || !in_time) ? 1 : 0;
}

}  // namespace loadgen
