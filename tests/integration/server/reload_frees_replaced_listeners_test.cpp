// A listener replaced by a reload is freed once its own sessions are gone, not when the
// whole endpoint is empty: with one connection held through many reloads, only the listener
// that serves it stays, /status says so, and it goes too once that connection ends.
#include <gtest/gtest.h>

#include "config/loader.hpp"
#include "core/tls/ticket_keys.hpp"
#include "support/broker_harness.hpp"
#include "support/config_support.hpp"
#include "support/echo_backend.hpp"
#include "support/test_certs.hpp"
#include "support/tls_client.hpp"
#include "support/wait.hpp"

using namespace tlsbroker;
using namespace std::chrono_literals;

namespace {

std::size_t retired_listeners(const test::broker_harness& broker) {
    int code = 0;
    const auto body = test::http_get(broker.status_port(), "/status", code);
    if (code != 200) return 9999;
    return nlohmann::json::parse(body).value("retired_listeners", std::size_t{9999});
}

}  // namespace

TEST(reload_frees_replaced_listeners, with_a_connection_held_only_its_own_listener_stays) {
    test::echo_backend backend;
    const auto port = test::unused_port();
    const auto dir = test::make_temp_dir("reload-free");
    auto cfg = test::base_config(dir, backend.port());
    cfg["listeners"][0]["listen"] = "127.0.0.1:" + std::to_string(port);
    test::broker_harness broker(backend.port(), {{"listeners", {{{"listen", cfg["listeners"][0]["listen"]}}}}});
    test::tls_client held;
    std::string got;
    ASSERT_TRUE(held.open(port) && held.write_all("h") && held.read_exact(1, got));
    const auto stores = core::ticket_keys::scopes_alive();

    const auto next = test::load_config(cfg, dir);
    for (int i = 0; i < 200; ++i) {
        const auto res = broker.server().reload(next);
        ASSERT_TRUE(res.ok) << (res.errors.empty() ? "" : res.errors.front());
    }
    // The listener that accepted the held connection is still draining it; the 199 that
    // accepted nothing are gone once their hand-over finished (on their strands).
    EXPECT_TRUE(test::wait_until([&] { return retired_listeners(broker) == 1; }, 5s)) << retired_listeners(broker);
    EXPECT_EQ(core::ticket_keys::scopes_alive(), stores) << "an unchanged reload keeps one ticket store";
    std::string more;
    EXPECT_TRUE(held.write_all("x") && held.read_exact(1, more)) << "the held connection still relays";
    EXPECT_TRUE(test::round_trip(port, "new")) << "the current listener serves";

    held.close();
    EXPECT_TRUE(test::wait_until([&] { return retired_listeners(broker) == 0; }, 5s))
        << "a replaced listener stayed after its last session ended: " << retired_listeners(broker);
}
