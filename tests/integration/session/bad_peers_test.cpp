// Bad clients and a dead backend are closed and counted; the broker keeps serving.
#include <gtest/gtest.h>

#include "core/common/log.hpp"
#include "support/blackhole.hpp"
#include "support/broker_harness.hpp"
#include "support/echo_backend.hpp"
#include "support/tls_client.hpp"
#include "support/wait.hpp"

using namespace tlsbroker;
using namespace std::chrono_literals;

TEST(bad_peers, garbage_instead_of_client_hello_is_closed_and_counted) {
    test::echo_backend backend;
    test::broker_harness broker(backend.port());
    for (int i = 0; i < 3; ++i) {
        test::tls_client g;
        ASSERT_TRUE(g.connect(broker.port()));
        ASSERT_TRUE(g.write_raw("GET / HTTP/1.0\r\n\r\nthis is not TLS at all"));
        EXPECT_TRUE(g.wait_closed(5s));
    }
    EXPECT_TRUE(test::wait_until([&] { return broker.counter(core::counter::handshakes_failed) == 3; }, 5s));
    EXPECT_EQ(broker.counter(core::counter::handshakes_ok), 0u);
    EXPECT_EQ(backend.connections(), 0u);
    test::tls_client c;
    std::string got;
    ASSERT_TRUE(c.open(broker.port()) && c.write_all("fine") && c.read_exact(4, got)) << c.error();
}

TEST(bad_peers, backend_down_closes_client_promptly_and_counts) {
    const auto dead = test::unused_port();
    test::broker_harness broker(dead);
    for (int i = 0; i < 3; ++i) {
        test::tls_client c;
        ASSERT_TRUE(c.open(broker.port())) << c.error();
        const auto t0 = std::chrono::steady_clock::now();
        EXPECT_TRUE(c.wait_closed(3s));
        EXPECT_LT(std::chrono::steady_clock::now() - t0, 2s);
    }
    EXPECT_TRUE(test::wait_until([&] { return broker.counter(core::counter::backend_connect_failures) == 3; }, 5s));
    EXPECT_TRUE(test::wait_until([&] { return broker.counter(core::counter::connections_active) == 0; }, 5s));
    EXPECT_EQ(broker.server().listener_endpoints().size(), 1u);
}

TEST(bad_peers, backend_connect_times_out_when_nothing_answers) {
    // A backend on loopback whose SYNs go unanswered: the connect can only time out; the
    // client is closed and it is counted.
    test::blackhole dead;
    test::broker_harness broker(
        1, {{"listeners",
             {{{"backend", {{"address", "127.0.0.1:" + std::to_string(dead.port())}, {"connect_timeout_ms", 300}}}}}}});
    test::tls_client c;
    ASSERT_TRUE(c.open(broker.port())) << c.error();
    EXPECT_TRUE(c.wait_closed(5s));
    EXPECT_TRUE(test::wait_until([&] { return broker.counter(core::counter::backend_connect_failures) == 1; }, 5s));
}

TEST(bad_peers, a_server_name_with_a_line_break_cannot_forge_a_log_line) {
    test::echo_backend backend;
    log::capture lines;
    test::broker_harness broker(backend.port(), {{"log", {{"level", "info"}}}});
    log::set_level(log::level::info);  // the connection line is info
    test::tls_client c;
    ASSERT_TRUE(c.connect(broker.port()));
    ASSERT_TRUE(c.handshake("evil\nFORGED-LINE")) << c.error();
    c.close();
    ASSERT_TRUE(test::wait_until([&] { return lines.contains("sni=\"evil\\x0aFORGED-LINE\""); }, 5s))
        << ::testing::PrintToString(lines.lines());
    for (const auto& l : lines.lines()) {
        EXPECT_EQ(l.find('\n'), std::string::npos) << l;
        EXPECT_NE(l.rfind("FORGED-LINE", 0), 0u) << l;
    }
}
