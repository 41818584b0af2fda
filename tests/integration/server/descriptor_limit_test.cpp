// The broker sizes its own descriptor limit: started with the soft limit of 1,024 that a
// shell or systemd gives by default and a higher hard limit, it raises the soft limit to
// what max_connections needs and serves the seed site's 2,025 clients; with a hard limit
// too low it says so at start, with the fix, and /status shows the shortfall.
#include <gtest/gtest.h>
#include <sys/resource.h>

#include <nlohmann/json.hpp>

#include "support/broker_harness.hpp"
#include "support/config_support.hpp"
#include "support/echo_backend.hpp"
#include "support/process.hpp"
#include "support/test_certs.hpp"
#include "support/tls_client.hpp"
#include "support/wait.hpp"

using namespace tlsbroker;
using namespace std::chrono_literals;

namespace {

nlohmann::json status_of(std::uint16_t port) {
    int code = 0;
    const auto body = test::http_get(port, "/status", code);
    return code == 200 ? nlohmann::json::parse(body) : nlohmann::json::object();
}

// This process holds a client socket per connection and the echo backend's socket too.
void raise_own_limit() {
    rlimit rl{};
    ::getrlimit(RLIMIT_NOFILE, &rl);
    rl.rlim_cur = rl.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &rl);
}

}  // namespace

TEST(descriptor_limit, a_soft_limit_of_1024_is_raised_and_2025_clients_are_served) {
    raise_own_limit();
    test::echo_backend backend;
    const auto dir = test::make_temp_dir("fd-limit");
    auto cfg = test::base_config(dir, backend.port());
    test::merge(cfg, {{"listeners", {{{"max_connections", 2100}, {"backlog", 4096}}}}});
    auto b = test::start_broker_process(dir, cfg, 1024, 8192);
    ASSERT_NE(b.port, 0) << b.proc->output();
    EXPECT_TRUE(b.proc->wait_for_output(R"(soft limit raised from 1024 to (\d+))", 5s)) << b.proc->output();

    constexpr int clients = 2025;
    std::vector<std::unique_ptr<test::tls_client>> held;
    int served = 0;
    int refused = 0;
    for (int i = 0; i < clients && refused < 3; ++i) {  // a few refusals tell enough
        auto c = std::make_unique<test::tls_client>();
        std::string got;
        if (c->open(b.port) && c->write_all("x") && c->read_exact(1, got))
            ++served;
        else
            ++refused;
        held.push_back(std::move(c));
    }
    EXPECT_EQ(served, clients) << b.proc->output().substr(0, 4000);
    const auto st = status_of(b.status_port);
    EXPECT_EQ(st["descriptors"]["enough"], true) << st.dump();
    EXPECT_GE(st["descriptors"]["limit"].get<std::uint64_t>(), st["descriptors"]["needed"].get<std::uint64_t>());
    EXPECT_EQ(st["healthy"], true) << st.dump();
    EXPECT_EQ(b.proc->output().find("Too many open files"), std::string::npos);
    held.clear();
    b.proc->signal(SIGTERM);
    EXPECT_EQ(b.proc->wait_exit(30s).value_or(-1), 0);
}

TEST(descriptor_limit, a_hard_limit_too_low_is_reported_at_start_with_the_fix) {
    test::echo_backend backend;
    const auto dir = test::make_temp_dir("fd-limit-low");
    auto cfg = test::base_config(dir, backend.port());
    test::merge(cfg, {{"listeners", {{{"max_connections", 2100}}}}});
    auto b = test::start_broker_process(dir, cfg, 1024, 1024);
    ASSERT_NE(b.port, 0) << b.proc->output();
    EXPECT_TRUE(b.proc->wait_for_output(R"(the hard limit is 1024.*(LimitNOFILE=\d+))", 5s)) << b.proc->output();
    const auto st = status_of(b.status_port);
    EXPECT_EQ(st["descriptors"]["enough"], false) << st.dump();
    EXPECT_EQ(st["descriptors"]["limit"], 1024);
    EXPECT_EQ(st["descriptors"]["hard_limit"], 1024);
    b.proc->signal(SIGTERM);
    EXPECT_EQ(b.proc->wait_exit(15s).value_or(-1), 0);
}
