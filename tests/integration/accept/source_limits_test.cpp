// Per-source limits reject the surplus (live connections, or a burst over the rate) and count it.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "core/common/log.hpp"
#include "support/broker_harness.hpp"
#include "support/echo_backend.hpp"
#include "support/tls_client.hpp"
#include "support/wait.hpp"

using namespace tlsbroker;
using namespace std::chrono_literals;

using test::round_trip;

TEST(source_limits, per_source_limit_rejects_the_surplus_and_counts_it) {
    test::echo_backend backend;
    test::broker_harness broker(backend.port(), {{"listeners", {{{"max_connections_per_source", 3}}}}});
    std::vector<std::unique_ptr<test::tls_client>> held;
    for (int i = 0; i < 3; ++i) {
        held.push_back(std::make_unique<test::tls_client>());
        ASSERT_TRUE(held.back()->open(broker.port())) << held.back()->error();
    }
    test::tls_client surplus;
    ASSERT_TRUE(surplus.connect(broker.port()));
    EXPECT_TRUE(surplus.wait_closed(5s));
    EXPECT_TRUE(test::wait_until([&] { return broker.counter(core::counter::rejected_source_limit) == 1; }, 5s));
    held.front()->close();
    EXPECT_TRUE(test::wait_until([&] { return round_trip(broker.port(), "room again"); }, 5s));
}

TEST(source_limits, per_source_rate_rejects_a_burst_and_counts_it) {
    test::echo_backend backend;
    test::broker_harness broker(backend.port(),
                                {{"listeners", {{{"source_rate_per_second", 1}, {"source_rate_burst", 5}}}}});
    int ok = 0;
    for (int i = 0; i < 12; ++i) ok += round_trip(broker.port(), "x") ? 1 : 0;
    EXPECT_EQ(ok, 5);
    EXPECT_GE(broker.counter(core::counter::rejected_source_rate), 7u);
}
