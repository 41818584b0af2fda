// Replay of the IOCP library's failure, short version (the full one is scripts/soak-iocp.sh):
// connections at >= 200/s where half are reset right after connect, mixed with real TLS
// clients that exchange data, with the watchdog probing: 0 stalls, every real client served.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <deque>
#include <mutex>
#include <thread>

#include "support/broker_harness.hpp"
#include "support/echo_backend.hpp"
#include "support/tls_client.hpp"
#include "support/wait.hpp"

using namespace tlsbroker;
using namespace std::chrono_literals;

TEST(iocp_replay, resets_mixed_with_real_clients_never_stall_the_accept_path) {
    test::echo_backend backend;
    test::broker_harness broker(backend.port(), {{"watchdog",
                                                  {{"enabled", true},
                                                   {"interval_ms", 100},
                                                   {"probe_interval_ms", 1500},
                                                   {"probe_timeout_ms", 1000},
                                                   {"on_unrecoverable", "report"}}}});
    constexpr int total = 2500;
    constexpr int rate = 250;  // connections per second
    std::atomic<int> served{0}, failed{0}, resets{0};
    std::mutex m;
    std::deque<int> work;
    std::atomic<bool> done{false};
    std::vector<std::thread> clients;
    for (int t = 0; t < 4; ++t)
        clients.emplace_back([&] {
            for (;;) {
                int id = -1;
                {
                    std::lock_guard lock(m);
                    if (!work.empty()) {
                        id = work.front();
                        work.pop_front();
                    }
                }
                if (id < 0) {
                    if (done) return;
                    std::this_thread::yield();
                    continue;
                }
                test::tls_client c;
                c.set_timeout(10s);
                const auto msg = test::random_bytes(512, static_cast<std::uint32_t>(id));
                std::string got;
                if (c.open(broker.port()) && c.write_all(msg) && c.read_exact(msg.size(), got) && got == msg)
                    ++served;
                else
                    ++failed;
            }
        });
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < total; ++i) {
        // Pacing the load generator: connection i is due at start + i/rate.
        std::this_thread::sleep_until(start + std::chrono::microseconds(i * 1000000LL / rate));
        if (i % 2 == 0) {
            const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
            sockaddr_in a{};
            a.sin_family = AF_INET;
            a.sin_port = htons(broker.port());
            a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
            if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) {
                linger l{1, 0};
                ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
                ++resets;
            }
            ::close(fd);
        } else {
            std::lock_guard lock(m);
            work.push_back(i);
        }
    }
    done = true;
    for (auto& t : clients) t.join();
    const auto elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    EXPECT_GE(total / elapsed, 200.0) << "the load generator fell behind";
    EXPECT_EQ(served.load(), total / 2);
    EXPECT_EQ(failed.load(), 0);
    EXPECT_EQ(resets.load(), total / 2);
    EXPECT_EQ(broker.counter(core::counter::accept_stalls), 0u);
    EXPECT_GE(broker.counter(core::counter::probes_ok), 5u);
    EXPECT_EQ(broker.counter(core::counter::probes_failed), 0u);
    EXPECT_TRUE(broker.server().healthy());
}
