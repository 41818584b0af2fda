// Handshake, idle and write-stall timeouts free the connection and are counted; nobody
// else is held up.
#include <gtest/gtest.h>

#include "support/broker_harness.hpp"
#include "support/echo_backend.hpp"
#include "support/tls_client.hpp"
#include "support/wait.hpp"

using namespace tlsbroker;
using namespace std::chrono_literals;

TEST(timeouts, slowloris_is_freed_by_the_handshake_timeout) {
    test::echo_backend backend;
    test::broker_harness broker(backend.port(), {{"listeners", {{{"timeouts", {{"handshake_ms", 300}}}}}}});
    test::tls_client silent;
    ASSERT_TRUE(silent.connect(broker.port()));
    test::tls_client half;  // half a ClientHello, then nothing
    ASSERT_TRUE(half.connect(broker.port()));
    ASSERT_TRUE(half.write_raw(std::string("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11)));
    EXPECT_TRUE(silent.wait_closed(5s));
    EXPECT_TRUE(half.wait_closed(5s));
    EXPECT_TRUE(test::wait_until([&] { return broker.counter(core::counter::handshakes_timeout) == 2; }, 5s));
    EXPECT_EQ(broker.counter(core::counter::handshakes_in_progress), 0u);
    // The slot is released just after the socket closes: wait for it rather than race it.
    EXPECT_TRUE(test::wait_until([&] { return broker.counter(core::counter::connections_active) == 0; }, 5s));
    // Meanwhile a real client is served.
    test::tls_client c;
    std::string got;
    ASSERT_TRUE(c.open(broker.port()) && c.write_all("hi") && c.read_exact(2, got)) << c.error();
}

TEST(timeouts, idle_connection_is_closed_after_idle_ms) {
    test::echo_backend backend;
    test::broker_harness broker(backend.port(), {{"listeners", {{{"timeouts", {{"idle_ms", 300}}}}}}});
    test::tls_client c;
    ASSERT_TRUE(c.open(broker.port()));
    std::string got;
    ASSERT_TRUE(c.write_all("x") && c.read_exact(1, got));
    EXPECT_TRUE(c.wait_closed(5s));
    EXPECT_TRUE(test::wait_until([&] { return broker.counter(core::counter::timeouts_idle) == 1; }, 5s));
}

TEST(timeouts, client_that_stops_reading_is_cut_loose_by_write_stall) {
    test::echo_backend backend;
    test::broker_harness broker(backend.port(), {{"listeners", {{{"timeouts", {{"write_stall_ms", 400}}}}}}});
    test::tls_client stuck;
    ASSERT_TRUE(stuck.open(broker.port()));
    stuck.set_timeout(100ms);
    // Send far more than the socket buffers hold, never reading the echo.
    const auto chunk = test::random_bytes(64 * 1024, 3);
    for (int i = 0; i < 400; ++i)
        if (!stuck.write_all(chunk)) break;
    EXPECT_TRUE(test::wait_until([&] { return broker.counter(core::counter::timeouts_write_stall) == 1; }, 10s));
    // Others are served while and after it is stuck.
    test::tls_client c;
    std::string got;
    ASSERT_TRUE(c.open(broker.port()) && c.write_all("ok") && c.read_exact(2, got)) << c.error();
    EXPECT_EQ(got, "ok");
}

TEST(timeouts, backend_that_stops_reading_is_cut_loose_by_write_stall) {
    test::echo_backend::options o;
    o.never_read = true;
    test::echo_backend backend(o);
    test::broker_harness broker(backend.port(), {{"listeners", {{{"timeouts", {{"write_stall_ms", 400}}}}}}});
    test::tls_client c;
    ASSERT_TRUE(c.open(broker.port()));
    c.set_timeout(100ms);
    const auto chunk = test::random_bytes(64 * 1024, 4);
    for (int i = 0; i < 400; ++i)
        if (!c.write_all(chunk)) break;
    EXPECT_TRUE(test::wait_until([&] { return broker.counter(core::counter::timeouts_write_stall) == 1; }, 10s));
}
