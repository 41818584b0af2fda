// The executable under a fake systemd: NOTIFY_SOCKET is a recording socket. READY=1 comes
// once the listener and the status endpoint are bound (and the listener serves at once);
// WATCHDOG=1 comes every half WATCHDOG_USEC; SIGHUP is RELOADING=1 (with MONOTONIC_USEC)
// then READY=1, also when the new file is rejected (STATUS= says so); SIGTERM is STOPPING=1
// and exit 0. An abstract socket works too, and WATCHDOG_PID naming another process means
// no heartbeat at all.
#include <gtest/gtest.h>
#include <signal.h>

#include <regex>

#include "support/broker_harness.hpp"
#include "support/echo_backend.hpp"
#include "support/notify_recorder.hpp"
#include "support/process.hpp"
#include "support/test_certs.hpp"
#include "support/tls_client.hpp"
#include "support/wait.hpp"

using namespace tlsbroker;
using namespace std::chrono_literals;

namespace {

constexpr auto npos = std::string::npos;

std::unique_ptr<test::process> start(const std::filesystem::path& dir, nlohmann::json cfg) {
    cfg["log"]["level"] = "info";
    test::write_file(dir / "broker.json", cfg.dump(2));
    return std::make_unique<test::process>(test::process::options{
        {"--config", (dir / "broker.json").string()}, dir / "broker.out", std::nullopt, std::nullopt});
}

// The port the listener accepts on now (a reload of a port-0 listener binds a new one).
std::uint16_t last_port(const std::string& output) {
    const std::regex re(R"(accepting on 127\.0\.0\.1:(\d+))");
    std::uint16_t port = 0;
    for (auto it = std::sregex_iterator(output.begin(), output.end(), re); it != std::sregex_iterator(); ++it)
        port = static_cast<std::uint16_t>(std::stoi((*it)[1].str()));
    return port;
}

bool echoes(std::uint16_t port) {
    test::tls_client c;
    c.set_timeout(10s);
    std::string got;
    return c.open(port) && c.write_all("ping") && c.read_exact(4, got) && got == "ping";
}

}  // namespace

TEST(systemd_notify, ready_after_bind_then_watchdog_reload_and_stopping) {
    test::echo_backend backend;
    const auto dir = test::make_temp_dir("systemd-notify");
    test::notify_recorder rec(dir);
    test::scoped_env notify_socket("NOTIFY_SOCKET", rec.address());
    test::scoped_env watchdog_usec("WATCHDOG_USEC", "400000");  // WATCHDOG=1 every 200 ms
    auto cfg = test::base_config(dir, backend.port());
    auto p = start(dir, cfg);

    // At the moment READY=1 is seen, the log already says where both sockets listen.
    std::string at_ready;
    ASSERT_TRUE(test::wait_until(
        [&] {
            if (rec.find("READY=1") == npos) return false;
            at_ready = p->output();
            return true;
        },
        10s))
        << p->output();
    std::smatch m;
    ASSERT_TRUE(std::regex_search(at_ready, m, std::regex(R"(accepting on 127\.0\.0\.1:(\d+))"))) << at_ready;
    EXPECT_NE(at_ready.find("status endpoint on http://127.0.0.1:"), npos) << at_ready;
    const auto port = static_cast<std::uint16_t>(std::stoi(m[1].str()));
    EXPECT_TRUE(echoes(port));
    EXPECT_EQ(rec.count("READY=1"), 1u);
    EXPECT_TRUE(test::has_line(rec.messages()[rec.find("READY=1")], "STATUS=accepting on 1 listener"));

    ASSERT_TRUE(test::wait_until([&] { return rec.count("WATCHDOG=1") >= 3; }, 10s)) << p->output();

    // SIGHUP, then waits for RELOADING=1 and the READY=1 after it (their indexes).
    std::size_t reloading = npos, ready = npos;
    const auto reload = [&] {
        const auto before = rec.messages().size();
        p->signal(SIGHUP);
        return test::wait_until(
            [&] {
                reloading = rec.find("RELOADING=1", before);
                ready = reloading == npos ? npos : rec.find("READY=1", reloading + 1);
                return ready != npos;
            },
            10s);
    };

    // A reload: RELOADING=1 with this machine's CLOCK_MONOTONIC, then READY=1.
    ASSERT_TRUE(reload()) << p->output();
    const auto msg = rec.messages()[reloading];
    ASSERT_TRUE(std::regex_search(msg, m, std::regex("\nMONOTONIC_USEC=(\\d+)$"))) << msg;
    const auto now_us =
        std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now().time_since_epoch());
    EXPECT_LT(std::abs(now_us.count() - std::stoll(m[1].str())), 10'000'000) << msg;
    EXPECT_TRUE(test::has_line(rec.messages()[ready], "STATUS=accepting on 1 listener"));

    // A rejected reload: systemd still hears READY=1 (the running config stays), and why.
    test::write_file(dir / "broker.json", R"({"listeners": 5})");
    ASSERT_TRUE(reload()) << p->output();
    EXPECT_NE(rec.messages()[ready].find("STATUS=reload of "), npos) << rec.messages()[ready];
    EXPECT_NE(rec.messages()[ready].find("rejected"), npos) << rec.messages()[ready];
    EXPECT_TRUE(echoes(last_port(p->output())));

    p->signal(SIGTERM);
    ASSERT_TRUE(test::wait_until([&] { return rec.count("STOPPING=1") >= 1; }, 10s)) << p->output();
    EXPECT_EQ(p->wait_exit(15s).value_or(-1), 0) << p->output();
    EXPECT_EQ(rec.count("READY=1"), 3u);
}

TEST(systemd_notify, abstract_socket_and_a_watchdog_meant_for_another_process) {
    test::echo_backend backend;
    const auto dir = test::make_temp_dir("systemd-notify-abstract");
    test::notify_recorder rec(dir, true);
    test::scoped_env notify_socket("NOTIFY_SOCKET", rec.address());
    test::scoped_env watchdog_usec("WATCHDOG_USEC", "200000");
    test::scoped_env watchdog_pid("WATCHDOG_PID", "1");
    auto p = start(dir, test::base_config(dir, backend.port()));
    ASSERT_TRUE(test::wait_until([&] { return rec.count("READY=1") == 1; }, 10s)) << p->output();
    p->signal(SIGTERM);
    EXPECT_EQ(p->wait_exit(15s).value_or(-1), 0) << p->output();
    // Everything it sent has arrived: no heartbeat was ever started.
    EXPECT_GE(rec.count("STOPPING=1"), 1u);
    EXPECT_EQ(rec.count("WATCHDOG=1"), 0u);
    EXPECT_EQ(p->output().find("watchdog heartbeat"), npos) << p->output();
}
