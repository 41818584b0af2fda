// Re-creating a listening socket (the watchdog's step 2) loses no client: the connections
// waiting in the old socket's queue are accepted before it closes, and clients that connect
// while it happens reach the new socket. Each one completes its TLS handshake.
#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

#include "core/listener/listener.hpp"
#include "support/accept_faults.hpp"
#include "support/broker_harness.hpp"
#include "support/echo_backend.hpp"
#include "support/tls_client.hpp"
#include "support/wait.hpp"

using namespace tlsbroker;
using namespace std::chrono_literals;

namespace {

bool round_trip(test::tls_client& c, const std::string& msg) {
    std::string got;
    return c.handshake() && c.write_all(msg) && c.read_exact(msg.size(), got) && got == msg;
}

}  // namespace

TEST(watchdog_recreate, under_load_keeps_every_queued_connection) {
    test::echo_backend backend;
    test::broker_harness broker(backend.port(), {{"listeners", {{{"timeouts", {{"handshake_ms", 60000}}}}}}});
    auto l = broker.server().listener_at(0);
    {
        test::tls_client c;
        ASSERT_TRUE(c.connect(broker.port()) && round_trip(c, "before"));
    }
    // The next accept is lost: from here connections wait in the kernel's queue.
    test::inject_accept_faults(*l)->lose_next_arm();
    {
        test::tls_client c;
        ASSERT_TRUE(c.connect(broker.port()) && round_trip(c, "taken; the next accept is lost"));
    }
    constexpr int queued = 250;
    std::vector<std::unique_ptr<test::tls_client>> waiting;
    for (int i = 0; i < queued; ++i) {
        waiting.push_back(std::make_unique<test::tls_client>());
        waiting.back()->set_timeout(30s);
        ASSERT_TRUE(waiting.back()->connect(broker.port())) << i << ": " << waiting.back()->error();
    }
    ASSERT_TRUE(test::wait_until([&] { return l->accept_queue_depth().value_or(0) >= queued; }, 5s));
    const auto accepted_before = broker.counter(core::counter::connections_accepted);

    // Clients keep arriving while the socket is re-created.
    std::atomic<bool> run{true};
    std::atomic<int> newcomers_ok{0}, newcomers_failed{0};
    std::thread newcomers([&] {
        for (int i = 0; run || i < 20; ++i) {
            test::tls_client c;
            c.set_timeout(30s);
            if (c.connect(broker.port()) && round_trip(c, "newcomer " + std::to_string(i)))
                ++newcomers_ok;
            else
                ++newcomers_failed;
        }
    });
    l->recover_recreate();
    ASSERT_TRUE(test::wait_until([&] { return broker.counter(core::counter::listener_recreations) == 1; }, 5s));
    EXPECT_TRUE(test::wait_until(
        [&] { return broker.counter(core::counter::connections_accepted) >= accepted_before + queued; }, 10s));

    int ok = 0;
    for (int i = 0; i < queued; ++i)
        if (round_trip(*waiting[i], "queued " + std::to_string(i)))
            ++ok;
        else
            ADD_FAILURE() << "queued client " << i << " lost: " << waiting[i]->error();
    EXPECT_EQ(ok, queued);
    run = false;
    newcomers.join();
    EXPECT_EQ(newcomers_failed.load(), 0);
    EXPECT_GE(newcomers_ok.load(), 20);
    EXPECT_EQ(broker.counter(core::counter::handshakes_failed), 0u);
    EXPECT_EQ(broker.counter(core::counter::handshakes_ok), broker.counter(core::counter::connections_accepted));
}
