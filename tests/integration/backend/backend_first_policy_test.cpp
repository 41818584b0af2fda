// backend_policy "first": fails over when the first backend is down, and returns to it.
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

TEST(backend_first_policy, first_policy_fails_over_when_the_first_backend_is_down_and_returns_to_it) {
    test::echo_backend second;
    const auto first_port = test::unused_port();
    nlohmann::json patch = {
        {"listeners",
         {{{"backend", nullptr},
           {"backends",
            {{{"address", "127.0.0.1:" + std::to_string(first_port)}},
             {{"address", "127.0.0.1:" + std::to_string(second.port())}}}},
           {"backend_policy", "first"},
           {"backend_health", {{"fail_threshold", 2}, {"cooldown_ms", 60000}, {"check_interval_ms", 100}}}}}}};
    test::broker_harness broker(second.port(), patch);
    for (int i = 0; i < 5; ++i) EXPECT_TRUE(round_trip(broker.port(), "to second " + std::to_string(i)));
    EXPECT_EQ(second.connections(), 5u);
    int status = 0;
    auto body = test::http_get(broker.status_port(), "/metrics", status);
    EXPECT_NE(
        body.find("tlsbroker_backend_up{listener=\"test\",backend=\"127.0.0.1:" + std::to_string(first_port) + "\"} 0"),
        std::string::npos)
        << body;
    // The first backend comes back: the periodic check marks it up and it is preferred again.
    test::echo_backend::options o;
    o.port = first_port;
    test::echo_backend first(o);
    ASSERT_TRUE(test::wait_until(
        [&] {
            body = test::http_get(broker.status_port(), "/metrics", status);
            return body.find("tlsbroker_backend_up{listener=\"test\",backend=\"127.0.0.1:" +
                             std::to_string(first_port) + "\"} 1") != std::string::npos;
        },
        5s))
        << body;
    for (int i = 0; i < 3; ++i) EXPECT_TRUE(round_trip(broker.port(), "to first " + std::to_string(i)));
    EXPECT_GE(first.connections(), 3u);   // the periodic TCP check connects too
    EXPECT_EQ(second.connections(), 5u);  // nothing more went to the fallback
}
