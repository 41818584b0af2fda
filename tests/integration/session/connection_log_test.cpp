// One connection log line per closed connection, and the switch that turns it off.
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

TEST(connection_log, one_connection_log_line_per_closed_connection) {
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

TEST(connection_log, connection_log_can_be_switched_off) {
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
