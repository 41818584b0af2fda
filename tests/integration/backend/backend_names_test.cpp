// A backend given by name ("localhost"): the broker looks the name up on its own schedule,
// so a burst of clients costs one lookup, not one per connection.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "core/listener/listener.hpp"
#include "support/broker_harness.hpp"
#include "support/echo_backend.hpp"
#include "support/tls_client.hpp"
#include "support/wait.hpp"

using namespace tlsbroker;
using namespace std::chrono_literals;

TEST(backend_names, a_burst_of_clients_to_a_named_backend_costs_one_lookup) {
    test::echo_backend backend;
    test::broker_harness broker(
        backend.port(),
        {{"listeners",
          {{{"backend",
             {{"address", "localhost:" + std::to_string(backend.port())}, {"connect_timeout_ms", 2000}}}}}}});
    constexpr int n = 24;
    std::atomic<int> echoed{0};
    std::vector<std::thread> clients;
    for (int i = 0; i < n; ++i)
        clients.emplace_back([&] {
            test::tls_client c;
            if (!c.connect(broker.port()) || !c.handshake() || !c.write_all("ping")) return;
            std::string got;
            if (c.read_exact(4, got) && got == "ping") ++echoed;
        });
    for (auto& t : clients) t.join();
    EXPECT_EQ(echoed, n);
    const auto& r = broker.server().listener_at(0)->backends().resolver();
    EXPECT_EQ(r.lookups_started(), 1u);  // at start; the next one is due after the refresh interval
    EXPECT_EQ(r.waiting(), 0u);
    EXPECT_EQ(broker.total(core::counter::backend_resolve_failures), 0u);
    EXPECT_EQ(broker.total(core::counter::backend_connect_failures), 0u);
}
