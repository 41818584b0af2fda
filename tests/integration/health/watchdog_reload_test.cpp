// After a reload, the replaced listener's watchdog does nothing: a canary it had in flight
// at the reload times out after the watchdog was stopped, and must not be judged, counted,
// or drive a recovery step (the counters are shared with the replacement by name).
#include <gtest/gtest.h>

#include "config/loader.hpp"
#include "core/listener/listener.hpp"
#include "support/accept_faults.hpp"
#include "support/broker_harness.hpp"
#include "support/echo_backend.hpp"
#include "support/test_certs.hpp"
#include "support/tls_client.hpp"
#include "support/wait.hpp"

using namespace tlsbroker;
using namespace std::chrono_literals;

TEST(watchdog_reload, the_replaced_watchdog_does_nothing_after_the_reload) {
    test::echo_backend backend;
    const auto port = test::unused_port();
    const auto dir = test::make_temp_dir("watchdog-reload");
    const nlohmann::json watchdog = {{"enabled", true},
                                     {"interval_ms", 60000},
                                     {"probe_interval_ms", 300},
                                     {"probe_timeout_ms", 250},
                                     {"on_unrecoverable", "report"}};
    const auto listen = "127.0.0.1:" + std::to_string(port);
    test::broker_harness broker(backend.port(), {{"watchdog", watchdog}, {"listeners", {{{"listen", listen}}}}});
    ASSERT_TRUE(test::wait_until([&] { return broker.counter(core::counter::probes_ok) >= 1; }, 5s));

    // Freeze the old listener's accept, so that its watchdog's next canary waits in the queue.
    auto old = broker.server().listener_at(0);
    test::inject_accept_faults(*old)->lose_next_arm();
    {
        test::tls_client c;
        std::string got;
        ASSERT_TRUE(c.open(port) && c.write_all("x") && c.read_exact(1, got));
    }
    ASSERT_TRUE(test::wait_until([&] { return old->accept_queue_depth().value_or(0) >= 1; }, 2s));
    const auto stalls = broker.counter(core::counter::accept_stalls);
    const auto failed = broker.counter(core::counter::probes_failed);

    // Reload while that canary waits (a changed listener is replaced, its socket handed over).
    auto next = test::base_config(dir, backend.port());
    next["watchdog"] = watchdog;
    next["listeners"][0]["listen"] = listen;
    next["listeners"][0]["backlog"] = 512;
    const auto r = config::load_text(next.dump(), dir);
    ASSERT_TRUE(r.ok()) << r.errors.front().to_string();
    const auto res = broker.server().reload(r.config);
    ASSERT_TRUE(res.ok) << (res.errors.empty() ? "" : res.errors.front());
    ASSERT_NE(broker.server().listener_at(0), old);

    // Past the old canary's timeout, and several probes of the new watchdog.
    const auto ok = broker.counter(core::counter::probes_ok);
    ASSERT_TRUE(test::wait_until([&] { return broker.counter(core::counter::probes_ok) >= ok + 3; }, 5s));
    EXPECT_EQ(broker.counter(core::counter::accept_stalls), stalls);
    EXPECT_EQ(broker.counter(core::counter::probes_failed), failed);
    EXPECT_EQ(broker.counter(core::counter::recoveries_rearm), 0u);
    EXPECT_EQ(broker.counter(core::counter::recoveries_recreate), 0u);
    EXPECT_TRUE(broker.server().healthy());
    test::tls_client c;
    std::string got;
    EXPECT_TRUE(c.open(port) && c.write_all("after") && c.read_exact(5, got));
}
