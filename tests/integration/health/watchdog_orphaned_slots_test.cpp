// A listener that stays at its connection limit while no session is live (the signature of
// leaked slots) is noticed by the watchdog: logged, counted, and shown in /status.
#include <gtest/gtest.h>

#include <boost/asio/ip/address.hpp>

#include "core/listener/listener.hpp"
#include "support/broker_harness.hpp"
#include "support/echo_backend.hpp"
#include "support/tls_client.hpp"
#include "support/wait.hpp"

using namespace tlsbroker;
using namespace std::chrono_literals;

TEST(watchdog_orphaned_slots, limit_held_by_no_session_is_counted_and_shown_in_status) {
    test::echo_backend backend;
    test::broker_harness broker(backend.port(),
                                {{"watchdog",
                                  {{"enabled", true},
                                   {"interval_ms", 50},
                                   {"probe_interval_ms", 300},
                                   {"probe_timeout_ms", 200},
                                   {"on_unrecoverable", "report"}}},
                                 {"listeners", {{{"max_connections", 2}, {"timeouts", {{"handshake_ms", 300}}}}}}});
    auto l = broker.server().listener_at(0);
    // Two slots taken and never given to a session: what a leak leaves behind.
    const auto loopback = boost::asio::ip::make_address("127.0.0.1");
    auto a = l->admission().admit(loopback);
    auto b = l->admission().admit(loopback);
    ASSERT_TRUE(a.slot && b.slot);
    // The next accept (a client, or the watchdog's canary) finds the limit: the listener pauses.
    // An accept armed before the slots were taken may still hand this client a session; it
    // never handshakes, so that session ends at handshake_ms and no live session is left.
    test::tls_client c;
    ASSERT_TRUE(c.connect(broker.port()));
    ASSERT_TRUE(test::wait_until(
        [&] { return l->state() == core::listener_state::paused_at_limit && l->live_sessions() == 0; }, 5s));

    ASSERT_TRUE(test::wait_until([&] { return l->orphaned_slots(); }, 5s));
    // The flag and the counter move one after the other: wait for the counter too.
    EXPECT_TRUE(test::wait_until([&] { return broker.counter(core::counter::invariant_violations) >= 1u; }, 5s));
    EXPECT_EQ(broker.counter(core::counter::invariant_violations), 1u);
    EXPECT_EQ(broker.counter(core::counter::recoveries_rearm), 0u);  // no ladder: re-arming cannot help
    int status = 0;
    const auto body = test::http_get(broker.status_port(), "/status", status);
    EXPECT_EQ(status, 200);
    EXPECT_NE(body.find("\"held_without_sessions\": true"), std::string::npos) << body;

    // The slots come back: the listener resumes and the verdict clears.
    a.slot.release();
    b.slot.release();
    EXPECT_TRUE(test::wait_until([&] { return !l->orphaned_slots(); }, 5s));
    EXPECT_TRUE(test::round_trip(broker.port(), "served again"));
    EXPECT_EQ(broker.counter(core::counter::invariant_violations), 1u);  // once per episode
}
