// Overload is not a stall: while the one worker thread is busy (as with expensive handshakes
// in a reconnect storm) and hundreds of connections wait in the accept queue, the canary
// waits behind them, but accepts keep completing. The watchdog counts slow probes and takes
// no recovery step; every queued connection is accepted. The full storm (RSA-4096, 1,500
// TLS clients at 1,000/s) is scripts/soak-storm.sh (ctest soak.storm).
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <functional>
#include <memory>
#include <thread>
#include <vector>

#include "core/listener/listener.hpp"
#include "support/broker_harness.hpp"
#include "support/echo_backend.hpp"
#include "support/raw_socket.hpp"
#include "support/wait.hpp"

using namespace tlsbroker;
using namespace std::chrono_literals;

namespace {

using test::raw_connect;

// Keeps the broker's only worker thread busy: a handler that works 25 ms and posts itself
// again, as a stream of costly handshakes would. Accepts still complete between them.
struct busy_loop {
    core::server& srv;
    std::shared_ptr<std::atomic<bool>> run = std::make_shared<std::atomic<bool>>(true);
    explicit busy_loop(core::server& s) : srv(s) { step(srv, run); }
    ~busy_loop() { *run = false; }
    static void step(core::server& s, std::shared_ptr<std::atomic<bool>> run) {
        s.post([&s, run] {
            if (!*run) return;
            const auto until = std::chrono::steady_clock::now() + 25ms;
            while (std::chrono::steady_clock::now() < until) {
            }
            step(s, run);
        });
    }
};

}  // namespace

TEST(watchdog_overload, a_canary_queued_behind_clients_is_slow_not_a_stall) {
    test::echo_backend backend;
    test::broker_harness broker(backend.port(), {{"threads", 1},
                                                 {"watchdog",
                                                  {{"enabled", true},
                                                   {"interval_ms", 50},
                                                   {"probe_interval_ms", 300},
                                                   {"probe_timeout_ms", 200},
                                                   {"heartbeat_ms", 1000},
                                                   {"on_unrecoverable", "exit"}}},
                                                 {"listeners", {{{"timeouts", {{"handshake_ms", 60000}}}}}}});
    ASSERT_TRUE(test::wait_until([&] { return broker.counter(core::counter::probes_ok) >= 1; }, 5s));
    std::vector<int> fds;
    {
        busy_loop busy(broker.server());
        for (int i = 0; i < 400; ++i) {
            const int fd = raw_connect(broker.port());
            ASSERT_GE(fd, 0) << "connection " << i << " refused";
            fds.push_back(fd);
        }
        // The queue drains at about one accept per 25 ms: a canary waits for seconds.
        ASSERT_TRUE(test::wait_until([&] { return broker.counter(core::counter::probes_slow) >= 3; }, 15s));
        EXPECT_GT(broker.counter(core::counter::connections_accepted), 0u);
        EXPECT_LT(broker.counter(core::counter::connections_accepted), 400u) << "the overload ended too early";
        int status = 0;
        const auto body = test::http_get(broker.status_port(), "/status", status);
        EXPECT_EQ(status, 200);
        EXPECT_NE(body.find("\"watchdog\""), std::string::npos) << body;
        EXPECT_NE(body.find("overload, not a stall"), std::string::npos) << body;
    }
    EXPECT_TRUE(test::wait_until([&] { return broker.counter(core::counter::connections_accepted) == 400; }, 30s));
    EXPECT_EQ(broker.counter(core::counter::probes_failed), 0u);
    EXPECT_EQ(broker.counter(core::counter::accept_stalls), 0u);
    EXPECT_EQ(broker.counter(core::counter::recoveries_rearm), 0u);
    EXPECT_EQ(broker.counter(core::counter::recoveries_recreate), 0u);
    EXPECT_EQ(broker.counter(core::counter::listener_recreations), 0u);
    EXPECT_TRUE(broker.server().healthy());
    EXPECT_FALSE(broker.finished());
    // Probes are taken in time again once the load is gone.
    const auto ok = broker.counter(core::counter::probes_ok);
    EXPECT_TRUE(test::wait_until([&] { return broker.counter(core::counter::probes_ok) > ok; }, 5s));
    for (const int fd : fds) ::close(fd);
}
