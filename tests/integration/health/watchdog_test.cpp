// The watchdog detects a stalled accept path and heals it (re-arm, then re-create), or
// reports it unrecoverable; probes never distort client counters.
#include <gtest/gtest.h>
#include <linux/filter.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstdlib>
#include <thread>

#include "core/listener/listener.hpp"
#include "support/accept_faults.hpp"
#include "support/broker_harness.hpp"
#include "support/echo_backend.hpp"
#include "support/tls_client.hpp"
#include "support/wait.hpp"

using namespace tlsbroker;
using namespace std::chrono_literals;

namespace {

nlohmann::json fast_watchdog(const char* on_unrecoverable = "report") {
    return {{"watchdog",
             {{"enabled", true},
              {"interval_ms", 100},
              {"probe_interval_ms", 300},
              {"probe_timeout_ms", 200},
              {"heartbeat_ms", 200},
              {"on_unrecoverable", on_unrecoverable}}}};
}

bool round_trip(std::uint16_t port, const std::string& msg) {
    test::tls_client c;
    c.set_timeout(5s);
    std::string got;
    return c.open(port) && c.write_all(msg) && c.read_exact(msg.size(), got) && got == msg;
}

}  // namespace

TEST(watchdog, dropped_rearm_is_detected_and_healed_by_step_1) {
    test::echo_backend backend;
    test::broker_harness broker(backend.port(), fast_watchdog());
    ASSERT_TRUE(test::wait_until([&] { return broker.counter(core::counter::probes_ok) >= 1; }, 5s));
    test::inject_accept_faults(*broker.server().listener_at(0))->drop_next_arm();
    ASSERT_TRUE(round_trip(broker.port(), "taken, then the accept chain breaks"));
    const auto t0 = std::chrono::steady_clock::now();
    // Within two probe intervals the stall is found and step 1 heals it.
    ASSERT_TRUE(
        test::wait_until([&] { return broker.counter(core::counter::recoveries_rearm) == 1; }, 2 * 300ms + 200ms));
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 700ms);
    EXPECT_GE(broker.counter(core::counter::accept_stalls), 1u);
    for (int i = 0; i < 20; ++i) EXPECT_TRUE(round_trip(broker.port(), "after heal " + std::to_string(i)));
    EXPECT_EQ(broker.counter(core::counter::recoveries_recreate), 0u);
    EXPECT_TRUE(broker.server().healthy());
}

TEST(watchdog, socket_broken_under_the_listener_is_healed_by_step_2) {
    test::echo_backend backend;
    test::broker_harness broker(backend.port(), fast_watchdog());
    ASSERT_TRUE(test::wait_until([&] { return broker.counter(core::counter::probes_ok) >= 1; }, 5s));
    // A socket filter that drops everything: SYNs to this listening socket vanish. Re-arming
    // the accept cannot help; only a new socket can.
    sock_filter drop_all{BPF_RET | BPF_K, 0, 0, 0};
    sock_fprog prog{1, &drop_all};
    const int fd = static_cast<int>(broker.server().listener_at(0)->native_handle());
    ASSERT_EQ(::setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof prog), 0) << errno;
    ASSERT_TRUE(test::wait_until([&] { return broker.counter(core::counter::recoveries_recreate) == 1; }, 5s));
    EXPECT_EQ(broker.counter(core::counter::recoveries_rearm), 1u);
    EXPECT_TRUE(test::wait_until([&] { return broker.counter(core::counter::listener_recreations) == 1; }, 5s));
    EXPECT_TRUE(test::wait_until([&] { return round_trip(broker.port(), "healed"); }, 5s));
    EXPECT_EQ(broker.counter(core::counter::recoveries_unrecoverable), 0u);
    EXPECT_TRUE(broker.server().healthy());
}

TEST(watchdog, listening_socket_destroyed_from_outside_heals_within_two_probe_intervals) {
    // `ss -K` (sock_diag destroy) closes the listening socket under the broker: what an
    // operator's tool, a security agent or a driver reset can do. New connects are refused
    // until the broker has a new socket.
    test::echo_backend backend;
    test::broker_harness broker(backend.port(), fast_watchdog());
    ASSERT_TRUE(test::wait_until([&] { return broker.counter(core::counter::probes_ok) >= 1; }, 5s));
    const int fd = static_cast<int>(broker.server().listener_at(0)->native_handle());
    const auto cmd = "ss -K state listening src 127.0.0.1:" + std::to_string(broker.port()) + " >/dev/null 2>&1";
    const auto t0 = std::chrono::steady_clock::now();
    if (std::system(cmd.c_str()) != 0) GTEST_SKIP() << "ss -K is not available here";
    int listening = 1;
    socklen_t len = sizeof listening;
    ::getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len);
    if (listening != 0 && broker.counter(core::counter::listener_recreations) == 0)
        GTEST_SKIP() << "ss -K did not destroy the socket (needs CAP_NET_ADMIN and CONFIG_INET_DIAG_DESTROY)";
    // Healed within two probe intervals (300 ms each): a new socket serves clients.
    ASSERT_TRUE(test::wait_until([&] { return broker.counter(core::counter::listener_recreations) >= 1; }, 2s));
    ASSERT_TRUE(test::wait_until([&] { return round_trip(broker.port(), "healed"); }, 2s));
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 2 * 300ms);
    for (int i = 0; i < 10; ++i) EXPECT_TRUE(round_trip(broker.port(), "after heal " + std::to_string(i)));
    EXPECT_EQ(broker.counter(core::counter::recoveries_unrecoverable), 0u);
    EXPECT_TRUE(broker.server().healthy());
}

TEST(watchdog, unrecoverable_turns_healthz_503) {
    test::echo_backend backend;
    test::broker_harness broker(backend.port(), fast_watchdog("report"));
    ASSERT_TRUE(test::wait_until([&] { return broker.counter(core::counter::probes_ok) >= 1; }, 5s));
    auto l = broker.server().listener_at(0);
    test::inject_accept_faults(*l)->fail_next(1 << 30, ECONNABORTED);  // every accept fails, across re-creation too
    ASSERT_TRUE(test::wait_until([&] { return broker.counter(core::counter::recoveries_unrecoverable) == 1; }, 10s));
    EXPECT_EQ(broker.counter(core::counter::recoveries_rearm), 1u);
    EXPECT_EQ(broker.counter(core::counter::recoveries_recreate), 1u);
    int status = 0;
    const auto body = test::http_get(broker.status_port(), "/healthz", status);
    EXPECT_EQ(status, 503);
    EXPECT_NE(body.find("unrecoverable"), std::string::npos) << body;
    EXPECT_EQ(broker.total(core::counter::healthy), 0u);
    EXPECT_FALSE(broker.finished());
}

TEST(watchdog, a_reload_after_giving_up_starts_healthy_again) {
    test::echo_backend backend;
    test::broker_harness broker(backend.port(), fast_watchdog("report"));
    ASSERT_TRUE(test::wait_until([&] { return broker.counter(core::counter::probes_ok) >= 1; }, 5s));
    auto faults = test::inject_accept_faults(*broker.server().listener_at(0));
    faults->fail_next(1 << 30, ECONNABORTED);
    ASSERT_TRUE(test::wait_until([&] { return broker.counter(core::counter::recoveries_unrecoverable) == 1; }, 10s));
    ASSERT_EQ(broker.total(core::counter::healthy), 0u);
    faults->fail_next(0, ECONNABORTED);  // the operator fixed the cause, then reloads
    ASSERT_TRUE(broker.server().reload(broker.server().current_config()).ok);
    EXPECT_EQ(broker.total(core::counter::healthy), 1u);
    int status = 0;
    EXPECT_TRUE(test::wait_until(
        [&] {
            test::http_get(broker.status_port(), "/healthz", status);
            return status == 200;
        },
        5s));
}

TEST(watchdog, unrecoverable_with_exit_ends_run_with_a_nonzero_code) {
    test::echo_backend backend;
    test::broker_harness broker(backend.port(), fast_watchdog("exit"));
    ASSERT_TRUE(test::wait_until([&] { return broker.counter(core::counter::probes_ok) >= 1; }, 5s));
    auto l = broker.server().listener_at(0);
    test::inject_accept_faults(*l)->fail_next(1 << 30, ECONNABORTED);
    ASSERT_TRUE(test::wait_until([&] { return broker.finished(); }, 15s));
    EXPECT_NE(broker.stop(), 0);
}

TEST(watchdog, blocked_event_loop_handler_is_reported_with_its_duration) {
    test::echo_backend backend;
    auto patch = fast_watchdog();
    patch["threads"] = 1;
    test::broker_harness broker(backend.port(), patch);
    broker.server().post([] { std::this_thread::sleep_for(600ms); });  // the fault under test
    ASSERT_TRUE(test::wait_until([&] { return broker.total(core::counter::event_loop_stalls) >= 1; }, 5s));
    EXPECT_TRUE(test::wait_until([&] { return broker.total(core::counter::event_loop_max_block_ms) >= 500; }, 5s));
}

TEST(watchdog, probes_never_show_up_as_clients) {
    test::echo_backend backend;
    test::broker_harness broker(backend.port(), fast_watchdog());
    ASSERT_TRUE(test::wait_until([&] { return broker.counter(core::counter::probes_ok) >= 4; }, 5s));
    EXPECT_EQ(broker.counter(core::counter::connections_accepted), 0u);
    EXPECT_EQ(broker.counter(core::counter::connections_active), 0u);
    EXPECT_EQ(broker.counter(core::counter::handshakes_failed), 0u);
    EXPECT_EQ(broker.counter(core::counter::handshakes_timeout), 0u);
    EXPECT_EQ(broker.counter(core::counter::probes_failed), 0u);
    EXPECT_EQ(backend.connections(), 0u);
}

TEST(watchdog, listener_at_its_limit_is_not_a_false_stall) {
    test::echo_backend backend;
    auto patch = fast_watchdog();
    patch["listeners"] = {{{"max_connections", 2}}};
    test::broker_harness broker(backend.port(), patch);
    test::tls_client a, b;
    ASSERT_TRUE(a.open(broker.port()) && b.open(broker.port()));
    ASSERT_TRUE(test::wait_until([&] { return broker.counter(core::counter::accept_pauses) == 1; }, 5s));
    const auto probes = broker.counter(core::counter::probes_ok);
    // Several probe intervals pass while paused at the limit.
    EXPECT_FALSE(test::wait_until([&] { return broker.counter(core::counter::accept_stalls) > 0; }, 1500ms));
    EXPECT_EQ(broker.counter(core::counter::probes_ok), probes);
    EXPECT_EQ(broker.counter(core::counter::probes_failed), 0u);
    EXPECT_TRUE(broker.server().healthy());
}

TEST(watchdog, accept_queue_that_is_not_drained_is_a_stall) {
    // An accept that counts as outstanding but never completes (a lost completion): the
    // invariant holds, so only the accept queue shows it. Probes are far apart, so the
    // queue rule must find it; the watchdog's own verification probes then drive the ladder.
    test::echo_backend backend;
    test::broker_harness broker(backend.port(), {{"watchdog",
                                                  {{"enabled", true},
                                                   {"interval_ms", 50},
                                                   {"probe_interval_ms", 60000},
                                                   {"probe_timeout_ms", 200},
                                                   {"on_unrecoverable", "report"}}}});
    ASSERT_TRUE(round_trip(broker.port(), "before"));
    const auto probes_before = broker.counter(core::counter::probes_ok);
    test::inject_accept_faults(*broker.server().listener_at(0))->lose_next_arm();
    ASSERT_TRUE(round_trip(broker.port(), "taken; the next accept is lost"));
    test::tls_client waiting;
    waiting.set_timeout(5s);
    ASSERT_TRUE(waiting.connect(broker.port()));  // completes in the kernel, then waits in the queue
    ASSERT_TRUE(test::wait_until([&] { return broker.counter(core::counter::accept_stalls) >= 1; }, 2s));
    EXPECT_EQ(broker.counter(core::counter::probes_failed), 0u);  // found by the queue, not a probe
    // Re-arming cannot bring back a lost completion; re-creating the socket does.
    ASSERT_TRUE(test::wait_until([&] { return broker.counter(core::counter::recoveries_recreate) == 1; }, 3s));
    // The watchdog's probe after step 2 confirms the new socket (regular probes are a minute apart).
    ASSERT_TRUE(test::wait_until([&] { return broker.counter(core::counter::probes_ok) > probes_before; }, 3s));
    // The client that waited in the old socket's queue was kept: it is served, not reset.
    std::string got;
    EXPECT_TRUE(waiting.handshake() && waiting.write_all("kept") && waiting.read_exact(4, got) && got == "kept")
        << waiting.error();
    for (int i = 0; i < 5; ++i) EXPECT_TRUE(round_trip(broker.port(), "after heal " + std::to_string(i)));
    EXPECT_EQ(broker.counter(core::counter::recoveries_unrecoverable), 0u);
    EXPECT_TRUE(broker.server().healthy());
}

TEST(watchdog, connections_arriving_at_a_quiet_listener_are_no_stall) {
    // The queue check runs every 10 ms: a connection waiting a moment in the accept queue of a
    // listener that has been idle for longer than probe_timeout_ms must not count as a stall.
    test::echo_backend backend;
    test::broker_harness broker(backend.port(), {{"watchdog",
                                                  {{"enabled", true},
                                                   {"interval_ms", 10},
                                                   {"probe_interval_ms", 5000},
                                                   {"probe_timeout_ms", 50},
                                                   {"on_unrecoverable", "report"}}}});
    for (int i = 0; i < 8; ++i) {
        // Quiet for longer than probe_timeout_ms, then a client.
        EXPECT_FALSE(test::wait_until([&] { return broker.counter(core::counter::accept_stalls) > 0; }, 120ms));
        EXPECT_TRUE(round_trip(broker.port(), "quiet " + std::to_string(i)));
    }
    EXPECT_EQ(broker.counter(core::counter::accept_stalls), 0u);
    EXPECT_EQ(broker.counter(core::counter::recoveries_rearm), 0u);
}
