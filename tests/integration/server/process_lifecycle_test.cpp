// The executable end to end: SIGTERM drains an in-flight transfer completely and exits 0;
// fd exhaustion (RLIMIT_NOFILE lowered for the child) makes the listener back off, and it
// accepts again by itself once fds are free.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include "support/broker_harness.hpp"
#include "support/echo_backend.hpp"
#include "support/process.hpp"
#include "support/raw_socket.hpp"
#include "support/test_certs.hpp"
#include "support/tls_client.hpp"
#include "support/wait.hpp"

using namespace tlsbroker;
using namespace std::chrono_literals;

namespace {

using test::raw_connect;

}  // namespace

TEST(process_lifecycle, sigterm_drains_an_in_flight_transfer_completely_and_exits_0) {
    test::echo_backend backend;
    const auto dir = test::make_temp_dir("sigterm");
    auto cfg = test::base_config(dir, backend.port());
    auto b = test::start_broker_process(dir, cfg);
    ASSERT_NE(b.port, 0) << b.proc->output();

    test::tls_client c;
    c.set_timeout(20s);
    ASSERT_TRUE(c.open(b.port)) << c.error();
    const auto payload = test::random_bytes(8 * 1024 * 1024, 42);
    std::string got;
    const std::size_t first = 1024 * 1024;
    ASSERT_TRUE(c.transfer(std::string_view(payload).substr(0, first), got, 0)) << c.error();
    ASSERT_TRUE(test::wait_until([&] { return backend.bytes_received() >= first; }, 10s));
    b.proc->signal(SIGTERM);
    ASSERT_TRUE(b.proc->wait_for_output("SIGTERM received", 5s));
    // New connections are refused once it stopped accepting; the transfer goes on.
    EXPECT_TRUE(test::wait_until(
        [&] {
            test::tls_client late;
            return !late.connect(b.port, "127.0.0.1", 1s);
        },
        5s));
    ASSERT_TRUE(c.transfer(std::string_view(payload).substr(first), got, payload.size())) << c.error();
    EXPECT_EQ(got.size(), payload.size());
    EXPECT_TRUE(got == payload);
    c.shutdown_write();
    c.close();
    const auto code = b.proc->wait_exit(10s);
    ASSERT_TRUE(code.has_value()) << b.proc->output();
    EXPECT_EQ(*code, 0) << b.proc->output();
    EXPECT_NE(b.proc->output().find("stopped"), std::string::npos);
}

TEST(process_lifecycle, fd_exhaustion_backs_off_then_accepts_again_by_itself) {
    test::echo_backend backend;
    const auto dir = test::make_temp_dir("fd-exhaustion");
    auto cfg = test::base_config(dir, backend.port());
    test::merge(cfg, {{"threads", 1}, {"listeners", {{{"timeouts", {{"handshake_ms", 60000}}}}}}});
    auto b = test::start_broker_process(dir, cfg, 48u);
    ASSERT_NE(b.port, 0) << b.proc->output();

    // A client already served before the exhaustion must be unaffected by it.
    test::tls_client early;
    early.set_timeout(20s);
    std::string got;
    ASSERT_TRUE(early.open(b.port) && early.write_all("before") && early.read_exact(6, got)) << early.error();

    std::vector<int> hogs;
    for (int i = 0; i < 80; ++i)
        if (const int fd = raw_connect(b.port); fd >= 0) hogs.push_back(fd);
    ASSERT_TRUE(b.proc->wait_for_output("Too many open files.*backing off", 10s)) << b.proc->output();

    for (const int fd : hogs) ::close(fd);
    // A broker that has just refused clients for lack of descriptors is not healthy, and says
    // why; it is again once it has gone a while without running out.
    int health = 0;
    const auto why = test::http_get(b.status_port, "/healthz", health);
    EXPECT_EQ(health, 503) << why;
    EXPECT_NE(why.find("out of file descriptors"), std::string::npos) << why;
    test::tls_client after;
    after.set_timeout(20s);
    got.clear();
    ASSERT_TRUE(after.open(b.port) && after.write_all("after") && after.read_exact(5, got)) << after.error();
    EXPECT_EQ(got, "after");
    got.clear();
    ASSERT_TRUE(early.write_all("still") && early.read_exact(5, got)) << early.error();
    EXPECT_EQ(got, "still");

    int status = 0;
    const auto metrics = test::http_get(b.status_port, "/metrics", status);
    EXPECT_EQ(status, 200);
    EXPECT_NE(metrics.find("tlsbroker_accept_errors_total{listener=\"test\",class=\"resource\"}"), std::string::npos)
        << metrics;
    EXPECT_TRUE(test::wait_until(
        [&] {
            test::http_get(b.status_port, "/healthz", health);
            return health == 200;
        },
        20s))
        << "still unhealthy long after the descriptors came back";
    b.proc->signal(SIGTERM);
    EXPECT_EQ(b.proc->wait_exit(15s).value_or(-1), 0) << b.proc->output();
}
