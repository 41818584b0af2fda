// How a client's stream ends after the handshake: close_notify is a clean end; a reset, or a
// TCP end with no close_notify, is counted as a truncated stream (client_truncated). After a
// reset the backend is reset too; a bare TCP end is passed on as an end of stream.
#include <gtest/gtest.h>

#include "support/broker_harness.hpp"
#include "support/echo_backend.hpp"
#include "support/tls_client.hpp"
#include "support/wait.hpp"

using namespace tlsbroker;
using namespace std::chrono_literals;

namespace {

bool ping(test::tls_client& c) {
    std::string got;
    return c.write_all("ping") && c.read_exact(4, got) && got == "ping";
}

}  // namespace

TEST(truncated_stream, a_client_reset_is_counted_and_the_backend_is_reset_too) {
    test::echo_backend backend;
    test::broker_harness broker(backend.port());
    test::tls_client c;
    ASSERT_TRUE(c.open(broker.port())) << c.error();
    ASSERT_TRUE(ping(c));
    c.reset();
    EXPECT_TRUE(test::wait_until([&] { return broker.total(core::counter::client_truncated) == 1; }, 5s));
    EXPECT_TRUE(test::wait_until([&] { return backend.resets() == 1; }, 5s));
    EXPECT_EQ(backend.clean_ends(), 0u);
    EXPECT_TRUE(test::wait_until([&] { return broker.total(core::counter::connections_active) == 0; }, 5s));
}

TEST(truncated_stream, close_notify_is_a_clean_end_and_not_counted) {
    test::echo_backend backend;
    test::broker_harness broker(backend.port());
    test::tls_client c;
    ASSERT_TRUE(c.open(broker.port())) << c.error();
    ASSERT_TRUE(ping(c));
    c.shutdown_write();  // close_notify, then the TCP send side
    std::string rest;
    ASSERT_TRUE(c.read_to_eof(rest)) << c.error();
    ASSERT_TRUE(test::wait_until([&] { return broker.total(core::counter::connections_active) == 0; }, 5s));
    EXPECT_EQ(broker.total(core::counter::client_truncated), 0u);
    EXPECT_EQ(backend.clean_ends(), 1u);
    EXPECT_EQ(backend.resets(), 0u);
}

TEST(truncated_stream, a_tcp_end_without_close_notify_is_counted_and_passed_on_as_an_end) {
    test::echo_backend backend;
    test::broker_harness broker(backend.port());
    test::tls_client c;
    ASSERT_TRUE(c.open(broker.port())) << c.error();
    ASSERT_TRUE(ping(c));
    c.close();  // TCP FIN with no close_notify before it
    EXPECT_TRUE(test::wait_until([&] { return broker.total(core::counter::client_truncated) == 1; }, 5s));
    EXPECT_TRUE(test::wait_until([&] { return backend.clean_ends() == 1; }, 5s));
    EXPECT_EQ(backend.resets(), 0u);
}
