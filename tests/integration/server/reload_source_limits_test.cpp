// Per-source limits belong to the endpoint, not to one listener object: after a reload the
// connections the replaced listener still serves keep counting against the new one.
#include <gtest/gtest.h>

#include "config/loader.hpp"
#include "core/listener/listener.hpp"
#include "support/broker_harness.hpp"
#include "support/config_support.hpp"
#include "support/echo_backend.hpp"
#include "support/test_certs.hpp"
#include "support/tls_client.hpp"
#include "support/wait.hpp"

using namespace tlsbroker;
using namespace std::chrono_literals;

namespace {

using test::load_config;

}  // namespace

TEST(reload_source_limits, old_listeners_connections_still_count_after_a_reload) {
    test::echo_backend backend;
    const auto port = test::unused_port();
    const auto dir = test::make_temp_dir("reload-source");
    auto cfg = test::base_config(dir, backend.port());
    cfg["listeners"][0]["listen"] = "127.0.0.1:" + std::to_string(port);
    cfg["listeners"][0]["max_connections_per_source"] = 2;
    test::broker_harness broker(
        backend.port(),
        {{"listeners", {{{"listen", cfg["listeners"][0]["listen"]}, {"max_connections_per_source", 2}}}}});
    test::tls_client a, b;
    ASSERT_TRUE(test::round_trip(port, "before"));  // opened and closed: frees its entry
    ASSERT_TRUE(test::wait_until([&] { return broker.counter(core::counter::connections_active) == 0; }, 5s));
    ASSERT_TRUE(a.open(port) && b.open(port));
    std::string got;
    ASSERT_TRUE(a.write_all("a") && a.read_exact(1, got) && b.write_all("b") && b.read_exact(1, got));

    auto next = cfg;
    next["listeners"][0]["backlog"] = 300;  // a changed listener: a new listener object
    const auto loaded = load_config(next, dir);
    ASSERT_TRUE(loaded);
    const auto res = broker.server().reload(loaded);
    ASSERT_TRUE(res.ok) << (res.errors.empty() ? "" : res.errors.front());
    ASSERT_TRUE(test::wait_until(
        [&] { return broker.server().listener_at(0)->state() == core::listener_state::accepting; }, 5s));

    // 127.0.0.1 still has two connections open (on the replaced listener): a third is refused.
    test::tls_client third;
    third.set_timeout(5s);
    EXPECT_FALSE(third.open(port) && third.write_all("3") && third.read_exact(1, got));
    EXPECT_TRUE(test::wait_until([&] { return broker.counter(core::counter::rejected_source_limit) == 1; }, 5s));

    // One old connection ends: its entry is given back to the endpoint, and a new one fits.
    a.close();
    EXPECT_TRUE(test::wait_until([&] { return test::round_trip(port, "fits again"); }, 5s));
    EXPECT_TRUE(b.write_all("x") && b.read_exact(1, got));  // the old one still relays
}

TEST(reload_source_limits, limits_turned_on_at_a_reload_see_connections_already_open) {
    test::echo_backend backend;
    const auto port = test::unused_port();
    const auto dir = test::make_temp_dir("reload-source-on");
    auto cfg = test::base_config(dir, backend.port());
    cfg["listeners"][0]["listen"] = "127.0.0.1:" + std::to_string(port);
    test::broker_harness broker(backend.port(), {{"listeners", {{{"listen", cfg["listeners"][0]["listen"]}}}}});
    test::tls_client a;
    ASSERT_TRUE(a.open(port));

    auto next = cfg;
    next["listeners"][0]["max_connections_per_source"] = 1;
    const auto loaded = load_config(next, dir);
    ASSERT_TRUE(loaded);
    const auto res = broker.server().reload(loaded);
    ASSERT_TRUE(res.ok) << (res.errors.empty() ? "" : res.errors.front());

    EXPECT_TRUE(test::wait_until(
        [&] { return !test::round_trip(port, "refused") && broker.counter(core::counter::rejected_source_limit) >= 1; },
        5s));
    a.close();
    EXPECT_TRUE(test::wait_until([&] { return test::round_trip(port, "fits"); }, 5s));
}
