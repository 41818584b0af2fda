// A SIGTERM that arrives while the broker starts (config read, sockets not yet bound) is not
// lost and does not kill the process: it stops the broker as soon as it has started, exit 0.
// The handler used to be installed only after the "status endpoint on" line: killed, 143.
#include <gtest/gtest.h>
#include <signal.h>

#include "support/broker_harness.hpp"
#include "support/echo_backend.hpp"
#include "support/process.hpp"
#include "support/test_certs.hpp"

using namespace tlsbroker;
using namespace std::chrono_literals;

TEST(signal_during_start, sigterm_before_the_listeners_are_bound_stops_it_gracefully) {
    test::echo_backend backend;
    const auto dir = test::make_temp_dir("sigterm-at-start");
    auto cfg = test::base_config(dir, backend.port());
    cfg["log"]["level"] = "info";
    test::write_file(dir / "broker.json", cfg.dump(2));
    test::process p({{"--config", (dir / "broker.json").string()}, dir / "broker.out", std::nullopt, std::nullopt});
    // The "starting" line comes before the server is built and bound.
    ASSERT_TRUE(p.wait_for_output(" starting with ", 10s)) << p.output();
    p.signal(SIGTERM);
    const auto code = p.wait_exit(15s);
    ASSERT_TRUE(code.has_value()) << p.output();
    EXPECT_EQ(*code, 0) << p.output();
    EXPECT_NE(p.output().find("SIGTERM received"), std::string::npos) << p.output();
}
