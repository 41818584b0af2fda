// Operations features end to end: PROXY v1/v2 headers reach the backend, backends fail
// over and recover, per-source limits reject the surplus and count it.
#include <gtest/gtest.h>

#include "core/log.hpp"
#include "support/broker_harness.hpp"
#include "support/echo_backend.hpp"
#include "support/tls_client.hpp"
#include "support/wait.hpp"

#include <netinet/in.h>
#include <sys/socket.h>

using namespace tlsbroker;
using namespace std::chrono_literals;

using test::round_trip;

TEST(operations, proxy_v1_header_carries_the_client_address) {
    test::echo_backend::options o;
    o.expect_proxy = true;
    test::echo_backend backend(o);
    test::broker_harness broker(backend.port(), {{"listeners", {{{"proxy_protocol", "v1"}}}}});
    test::tls_client c;
    ASSERT_TRUE(c.open(broker.port()));
    std::string got;
    ASSERT_TRUE(c.write_all("hello") && c.read_exact(5, got));
    const auto h = backend.proxy_headers();
    ASSERT_EQ(h.size(), 1u);
    EXPECT_EQ(h[0].version, core::proxy_version::v1);
    EXPECT_EQ(h[0].source.address().to_string(), "127.0.0.1");
    sockaddr_in local{};
    socklen_t len = sizeof local;
    ::getsockname(c.fd(), reinterpret_cast<sockaddr*>(&local), &len);
    EXPECT_EQ(h[0].source.port(), ntohs(local.sin_port));
    EXPECT_EQ(h[0].destination.port(), broker.port());
    EXPECT_EQ(backend.proxy_errors(), 0u);
}

TEST(operations, proxy_v2_header_carries_tls_details) {
    test::echo_backend::options o;
    o.expect_proxy = true;
    test::echo_backend backend(o);
    test::broker_harness broker(backend.port(), {{"listeners", {{{"proxy_protocol", "v2"}}}}});
    ASSERT_TRUE(round_trip(broker.port(), "v2 payload", "site.example"));
    const auto h = backend.proxy_headers();
    ASSERT_EQ(h.size(), 1u);
    EXPECT_EQ(h[0].version, core::proxy_version::v2);
    EXPECT_TRUE(h[0].tls);
    EXPECT_EQ(h[0].tls_version, "TLSv1.3");
    EXPECT_FALSE(h[0].cipher.empty());
    EXPECT_EQ(h[0].sni, "site.example");
    EXPECT_EQ(h[0].destination.port(), broker.port());
}

TEST(operations, first_policy_fails_over_when_the_first_backend_is_down_and_returns_to_it) {
    test::echo_backend second;
    const auto first_port = test::unused_port();
    nlohmann::json patch = {{"listeners",
                             {{{"backend", nullptr},
                               {"backends", {{{"address", "127.0.0.1:" + std::to_string(first_port)}},
                                             {{"address", "127.0.0.1:" + std::to_string(second.port())}}}},
                               {"backend_policy", "first"},
                               {"backend_health", {{"fail_threshold", 2}, {"cooldown_ms", 60000}, {"check_interval_ms", 100}}}}}}};
    test::broker_harness broker(second.port(), patch);
    for (int i = 0; i < 5; ++i) EXPECT_TRUE(round_trip(broker.port(), "to second " + std::to_string(i)));
    EXPECT_EQ(second.connections(), 5u);
    int status = 0;
    auto body = test::http_get(broker.status_port(), "/metrics", status);
    EXPECT_NE(body.find("tlsbroker_backend_up{listener=\"test\",backend=\"127.0.0.1:" + std::to_string(first_port) + "\"} 0"),
              std::string::npos) << body;
    // The first backend comes back: the periodic check marks it up and it is preferred again.
    test::echo_backend::options o;
    o.port = first_port;
    test::echo_backend first(o);
    ASSERT_TRUE(test::wait_until([&] {
        body = test::http_get(broker.status_port(), "/metrics", status);
        return body.find("backend=\"127.0.0.1:" + std::to_string(first_port) + "\"} 1") != std::string::npos;
    }, 5s)) << body;
    for (int i = 0; i < 3; ++i) EXPECT_TRUE(round_trip(broker.port(), "to first " + std::to_string(i)));
    EXPECT_GE(first.connections(), 3u);   // the periodic TCP check connects too
    EXPECT_EQ(second.connections(), 5u);  // nothing more went to the fallback
}

TEST(operations, per_source_limit_rejects_the_surplus_and_counts_it) {
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

TEST(operations, per_source_rate_rejects_a_burst_and_counts_it) {
    test::echo_backend backend;
    test::broker_harness broker(backend.port(),
                                {{"listeners", {{{"source_rate_per_second", 1}, {"source_rate_burst", 5}}}}});
    int ok = 0;
    for (int i = 0; i < 12; ++i) ok += round_trip(broker.port(), "x") ? 1 : 0;
    EXPECT_EQ(ok, 5);
    EXPECT_GE(broker.counter(core::counter::rejected_source_rate), 7u);
}

TEST(operations, one_connection_log_line_per_closed_connection) {
    test::echo_backend backend;
    log::capture lines;
    {
        test::broker_harness broker(backend.port(), {{"log", {{"level", "info"}}}});
        log::set_level(log::level::info);
        test::tls_client c;
        std::string got;
        ASSERT_TRUE(c.open(broker.port()) && c.write_all("12345") && c.read_exact(5, got));
        c.shutdown_write();
        std::string rest;
        c.read_to_eof(rest);
        EXPECT_TRUE(test::wait_until([&] { return lines.contains("connection listener=test"); }, 5s));
    }
    std::string line;
    for (const auto& l : lines.lines())
        if (l.find("connection listener=test") != std::string::npos) line = l;
    EXPECT_NE(line.find("bytes_in=5 bytes_out=5"), std::string::npos) << line;
    EXPECT_NE(line.find("end=eof"), std::string::npos) << line;
    EXPECT_NE(line.find("sni=localhost"), std::string::npos) << line;
    EXPECT_NE(line.find("client=127.0.0.1:"), std::string::npos) << line;
}

TEST(operations, connection_log_can_be_switched_off) {
    test::echo_backend backend;
    log::capture lines;
    test::broker_harness broker(backend.port(), {{"listeners", {{{"connection_log", false}}}}});
    log::set_level(log::level::info);
    test::tls_client c;
    std::string got;
    ASSERT_TRUE(c.open(broker.port()) && c.write_all("x") && c.read_exact(1, got));
    c.close();
    EXPECT_TRUE(test::wait_until([&] { return broker.counter(core::counter::connections_active) == 0; }, 5s));
    EXPECT_FALSE(lines.contains("connection listener="));
}
