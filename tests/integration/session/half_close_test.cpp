// An end of stream from one side becomes a send shutdown on the other, and the other
// direction keeps flowing until it ends too.
#include <gtest/gtest.h>

#include "support/broker_harness.hpp"
#include "support/echo_backend.hpp"
#include "support/tls_client.hpp"
#include "support/wait.hpp"

using namespace tlsbroker;
using namespace std::chrono_literals;

TEST(half_close, client_end_reaches_backend_and_echo_still_arrives) {
    test::echo_backend backend;
    test::broker_harness broker(backend.port());
    test::tls_client c;
    ASSERT_TRUE(c.open(broker.port())) << c.error();
    const auto payload = test::random_bytes(200000, 7);
    ASSERT_TRUE(c.write_all(payload));
    c.shutdown_write();  // close_notify + FIN: the backend must see EOF
    std::string got;
    ASSERT_TRUE(c.read_to_eof(got)) << c.error();
    EXPECT_EQ(got.size(), payload.size());
    EXPECT_TRUE(got == payload);
    EXPECT_TRUE(test::wait_until([&] { return broker.counter(core::counter::connections_active) == 0; }, 5s));
    EXPECT_EQ(broker.counter(core::counter::timeouts_half_close), 0u);
}

TEST(half_close, backend_end_reaches_client_and_client_can_still_send) {
    test::echo_backend::options o;
    o.greet_then_close = 50000;
    test::echo_backend backend(o);
    test::broker_harness broker(backend.port());
    test::tls_client c;
    ASSERT_TRUE(c.open(broker.port())) << c.error();
    std::string got;
    ASSERT_TRUE(c.read_to_eof(got)) << c.error();  // close_notify after the greeting
    EXPECT_EQ(got, test::echo_backend::greeting(50000));
    const auto more = test::random_bytes(300000, 9);
    ASSERT_TRUE(c.write_all(more)) << c.error();
    EXPECT_TRUE(test::wait_until([&] { return backend.bytes_received() == more.size(); }, 5s))
        << backend.bytes_received();
    c.shutdown_write();
    EXPECT_TRUE(test::wait_until([&] { return broker.counter(core::counter::connections_active) == 0; }, 5s));
}

TEST(half_close, other_side_is_cut_after_half_close_timeout) {
    test::echo_backend::options o;
    o.greet_then_close = 10;
    test::echo_backend backend(o);
    test::broker_harness broker(backend.port(), {{"listeners", {{{"timeouts", {{"half_close_ms", 300}}}}}}});
    test::tls_client c;
    ASSERT_TRUE(c.open(broker.port())) << c.error();
    std::string got;
    ASSERT_TRUE(c.read_to_eof(got));
    // The client never ends its side: the broker closes it after half_close_ms.
    EXPECT_TRUE(c.wait_closed(5s));
    EXPECT_TRUE(test::wait_until([&] { return broker.counter(core::counter::timeouts_half_close) == 1; }, 5s));
}
