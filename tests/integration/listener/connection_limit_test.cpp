// At max_connections the listener pauses (the backlog holds newcomers) and resumes when a
// connection closes; both are counted.
#include <gtest/gtest.h>

#include <boost/asio/ip/address.hpp>

#include "core/accept/listener_state.hpp"
#include "core/listener/listener.hpp"
#include "support/broker_harness.hpp"
#include "support/echo_backend.hpp"
#include "support/tls_client.hpp"
#include "support/wait.hpp"

using namespace tlsbroker;
using namespace std::chrono_literals;

TEST(connection_limit, pauses_at_the_limit_and_resumes_when_one_closes) {
    test::echo_backend backend;
    test::broker_harness broker(backend.port(), {{"listeners", {{{"max_connections", 3}}}}});
    std::vector<std::unique_ptr<test::tls_client>> held;
    for (int i = 0; i < 3; ++i) {
        held.push_back(std::make_unique<test::tls_client>());
        ASSERT_TRUE(held.back()->open(broker.port())) << held.back()->error();
    }
    int status = 0;
    EXPECT_TRUE(test::wait_until(
        [&] {
            return test::http_get(broker.status_port(), "/status", status).find("paused_at_limit") != std::string::npos;
        },
        5s));
    EXPECT_EQ(broker.counter(core::counter::accept_pauses), 1u);

    // The fourth connects (kernel backlog) but is not served yet.
    test::tls_client waiting;
    ASSERT_TRUE(waiting.connect(broker.port()));
    std::string got;
    waiting.set_timeout(20s);
    std::thread hs([&] {
        waiting.handshake();
        waiting.write_all("4th");
        waiting.read_exact(3, got);
    });
    EXPECT_FALSE(test::wait_until([&] { return broker.counter(core::counter::connections_accepted) == 4; }, 300ms));

    held.front()->close();  // one leaves: the listener resumes and takes the waiting one
    hs.join();
    EXPECT_EQ(got, "4th");
    EXPECT_EQ(broker.counter(core::counter::accept_resumes), 1u);
    EXPECT_EQ(broker.counter(core::counter::connections_accepted), 4u);
}

TEST(connection_limit, a_connection_accepted_after_the_last_slot_went_elsewhere_is_closed_and_counted) {
    test::echo_backend backend;
    test::broker_harness broker(backend.port(), {{"listeners", {{{"max_connections", 1}}}}});
    auto l = broker.server().listener_at(0);
    // The accept is under way while there is room ...
    ASSERT_TRUE(test::wait_until([&] { return l->state() == core::listener_state::accepting; }, 5s));
    // ... then the endpoint's only slot is taken (as a replaced listener of the endpoint would).
    auto other = l->admission().admit(boost::asio::ip::make_address("127.0.0.1"));
    ASSERT_TRUE(other.slot);
    test::tls_client c;
    c.set_timeout(5s);
    ASSERT_TRUE(c.connect(broker.port()));
    EXPECT_TRUE(test::wait_until([&] { return broker.counter(core::counter::rejected_at_limit) == 1u; }, 5s));
    EXPECT_FALSE(c.handshake());  // closed, never served over the limit
    EXPECT_EQ(broker.counter(core::counter::connections_accepted), 0u);
    EXPECT_TRUE(test::wait_until([&] { return l->state() == core::listener_state::paused_at_limit; }, 5s));
    other.slot.release();  // the slot comes back: served again
    EXPECT_TRUE(test::round_trip(broker.port(), "after the limit"));
}
