// /metrics of a running broker carries the process_* families, and process_open_fds moves
// with the connections it holds (the harness runs the broker in this process).
#include <gtest/gtest.h>
#include <sys/resource.h>

#include <memory>
#include <vector>

#include "support/broker_harness.hpp"
#include "support/echo_backend.hpp"
#include "support/prometheus_parser.hpp"
#include "support/tls_client.hpp"
#include "support/wait.hpp"

using namespace tlsbroker;
using namespace std::chrono_literals;

namespace {

test::prom_document scrape(const test::broker_harness& broker) {
    int status = 0;
    const auto text = test::http_get(broker.status_port(), "/metrics", status);
    EXPECT_EQ(status, 200);
    return test::parse_prometheus(text);
}

}  // namespace

TEST(process_metrics, open_descriptors_follow_held_connections) {
    test::echo_backend backend;
    test::broker_harness broker(backend.port());
    const auto before = scrape(broker);
    ASSERT_TRUE(before.ok());
    for (const char* f : {"process_open_fds", "process_max_fds", "process_resident_memory_bytes",
                          "process_cpu_seconds_total", "process_start_time_seconds"})
        EXPECT_TRUE(before.families.contains(f)) << f;
    rlimit r{};
    ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &r), 0);
    EXPECT_EQ(before.value("process_max_fds"), static_cast<double>(r.rlim_cur));
    EXPECT_GT(before.value("process_resident_memory_bytes"), 0);

    // Three relayed connections: each holds at least the client's socket and the broker's
    // two (client and backend) in this process.
    std::vector<std::unique_ptr<test::tls_client>> held;
    for (int i = 0; i < 3; ++i) {
        held.push_back(std::make_unique<test::tls_client>());
        std::string got;
        ASSERT_TRUE(held.back()->open(broker.port()) && held.back()->write_all("x") && held.back()->read_exact(1, got));
    }
    const auto during = scrape(broker);
    EXPECT_GE(during.value("process_open_fds"), before.value("process_open_fds") + 9);
    held.clear();
    ASSERT_TRUE(test::wait_until([&] { return broker.counter(core::counter::connections_active) == 0; }, 5s));
    EXPECT_LT(scrape(broker).value("process_open_fds"), during.value("process_open_fds"));
}
