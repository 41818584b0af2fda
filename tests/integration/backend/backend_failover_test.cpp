// Backends that do not answer at all (SYNs dropped, as a host that is down): a connect that
// times out is that backend's failure, the next backend is tried, and the whole walk has its
// own deadline.
#include <gtest/gtest.h>

#include <chrono>

#include "support/blackhole.hpp"
#include "support/broker_harness.hpp"
#include "support/echo_backend.hpp"
#include "support/tls_client.hpp"
#include "support/wait.hpp"

using namespace tlsbroker;
using namespace std::chrono_literals;

namespace {

nlohmann::json two_backends(std::uint16_t first, std::uint16_t second, std::uint32_t timeout_ms) {
    return {{"listeners",
             {{{"backend", nullptr},
               {"backends",
                {{{"address", "127.0.0.1:" + std::to_string(first)}, {"connect_timeout_ms", timeout_ms}},
                 {{"address", "127.0.0.1:" + std::to_string(second)}, {"connect_timeout_ms", timeout_ms}}}},
               {"backend_policy", "first"},
               {"backend_health", {{"fail_threshold", 2}, {"cooldown_ms", 60000}}}}}}};
}

}  // namespace

TEST(backend_failover, a_silent_backend_times_out_counts_as_failed_and_the_next_one_serves) {
    test::blackhole dead;
    test::echo_backend live;
    test::broker_harness broker(live.port(), two_backends(dead.port(), live.port(), 300));
    for (int i = 0; i < 3; ++i)
        EXPECT_TRUE(test::round_trip(broker.port(), "served " + std::to_string(i))) << "client " << i;
    EXPECT_EQ(live.connections(), 3u);
    EXPECT_EQ(broker.counter(core::counter::backend_connect_failures), 0u) << "no client was lost";
    int status = 0;
    const auto body = test::http_get(broker.status_port(), "/metrics", status);
    const auto labels = "listener=\"test\",backend=\"127.0.0.1:" + std::to_string(dead.port()) + "\"";
    // Two timeouts marked it down (fail_threshold 2); the third client went straight on.
    EXPECT_NE(body.find("tlsbroker_backend_up{" + labels + "} 0"), std::string::npos) << body;
    EXPECT_NE(body.find("tlsbroker_backend_connects_total{" + labels + ",result=\"failed\"} 2"), std::string::npos)
        << body;
}

TEST(backend_failover, the_walk_over_all_backends_has_one_deadline) {
    test::blackhole a;
    test::blackhole b;
    auto patch = two_backends(a.port(), b.port(), 5000);
    patch["listeners"][0]["timeouts"] = {{"connect_total_ms", 400}};
    test::broker_harness broker(1, patch);
    test::tls_client c;
    ASSERT_TRUE(c.open(broker.port())) << c.error();
    const auto start = std::chrono::steady_clock::now();
    EXPECT_TRUE(c.wait_closed(4s)) << "closed after connect_total_ms, not after two connect timeouts of 5 s";
    EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);
    EXPECT_TRUE(test::wait_until([&] { return broker.counter(core::counter::backend_connect_failures) == 1; }, 5s));
}
