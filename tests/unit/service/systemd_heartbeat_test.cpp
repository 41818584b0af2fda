// WATCHDOG=1 (service/posix/systemd_heartbeat.hpp): sent from the broker's event loop while
// the accept path is not unrecoverable; none once the watchdog gave a path up (its `healthy`
// gauge is 0), and none while the event loop runs nothing, with one check queued at most.
#include "service/posix/systemd_heartbeat.hpp"

#include <gtest/gtest.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <thread>

#include "core/common/log.hpp"
#include "support/notify_recorder.hpp"
#include "support/test_certs.hpp"
#include "support/wait.hpp"

using namespace tlsbroker;
using namespace std::chrono_literals;
namespace asio = boost::asio;

namespace {

constexpr std::chrono::microseconds period{20000};

// A broker stand-in: an event loop on a thread of its own.
struct broker_loop {
    asio::io_context ioc;
    asio::executor_work_guard<asio::io_context::executor_type> work{ioc.get_executor()};
    std::thread thread{[this] { ioc.run(); }};
    ~broker_loop() {
        work.reset();
        ioc.stop();
        thread.join();
    }
    service::systemd_heartbeat::poster poster() {
        return [this](std::function<void()> fn) { asio::post(ioc, std::move(fn)); };
    }
};

}  // namespace

TEST(systemd_heartbeat, sent_while_healthy_withheld_once_an_accept_path_is_unrecoverable) {
    core::counter_block total;
    total.set(core::counter::healthy, 1);
    EXPECT_EQ(service::decide_heartbeat(total), service::heartbeat_verdict::send);
    total.set(core::counter::healthy, 0);
    EXPECT_EQ(service::decide_heartbeat(total), service::heartbeat_verdict::withhold_unrecoverable);
}

TEST(systemd_heartbeat, pings_from_the_broker_loop_and_none_while_stalled_unrecoverably) {
    const auto dir = test::make_temp_dir("heartbeat");
    test::notify_recorder rec(dir);
    service::sd_notifier notifier(rec.address());
    core::counter_block total;
    total.set(core::counter::healthy, 1);
    log::capture cap;
    log::set_rate_limit(std::chrono::milliseconds(0));  // an earlier test may have used the key
    broker_loop broker;
    asio::io_context timers;
    service::systemd_heartbeat hb(timers, period, broker.poster(), total, notifier);
    hb.start();
    std::thread timer_thread([&] { timers.run(); });

    ASSERT_TRUE(test::wait_until([&] { return rec.count("WATCHDOG=1") >= 3; }, 10s));

    // The watchdog's last step: the accept path is unrecoverable. A check already running
    // may still send; every check after it must withhold.
    total.set(core::counter::healthy, 0);
    const auto c0 = hb.checks();
    ASSERT_TRUE(test::wait_until([&] { return hb.checks() >= c0 + 2; }, 10s));
    const auto sent = hb.sent();
    const auto pings = rec.count("WATCHDOG=1");
    ASSERT_TRUE(test::wait_until([&] { return hb.checks() >= c0 + 8; }, 10s));
    EXPECT_EQ(hb.sent(), sent);
    EXPECT_EQ(rec.count("WATCHDOG=1"), pings);
    EXPECT_GE(hb.withheld(), 6u);
    EXPECT_EQ(total.get(core::counter::service_heartbeats_withheld), hb.withheld());  // /metrics, perfmon
    EXPECT_EQ(rec.count("STATUS=accept path unrecoverable; WATCHDOG=1 withheld so systemd restarts"), 1u);
    EXPECT_TRUE(cap.contains("[error] systemd: WATCHDOG=1 withheld"));

    asio::post(timers, [&] { hb.stop(); });  // on the timer's thread, as foreground.cpp does
    timer_thread.join();                     // nothing armed any more: run() returns
}

TEST(systemd_heartbeat, a_wedged_event_loop_gets_one_check_queued_and_sends_nothing) {
    const auto dir = test::make_temp_dir("heartbeat-wedged");
    test::notify_recorder rec(dir);
    service::sd_notifier notifier(rec.address());
    core::counter_block total;
    total.set(core::counter::healthy, 1);
    log::capture cap;
    // The "event loop" keeps what is posted and runs none of it.
    std::vector<std::function<void()>> queued;
    asio::io_context timers;
    service::systemd_heartbeat hb(
        timers, period, [&](std::function<void()> fn) { queued.push_back(std::move(fn)); }, total, notifier);
    hb.start();
    timers.run_for(std::chrono::milliseconds(10 * period.count() / 1000));
    EXPECT_EQ(queued.size(), 1u);
    EXPECT_EQ(rec.count("WATCHDOG=1"), 0u);
    EXPECT_EQ(hb.checks(), 0u);

    // The loop runs again: the queued check sends, and the next tick queues a new one.
    queued.front()();
    EXPECT_EQ(rec.count("WATCHDOG=1"), 1u);
    timers.restart();
    timers.run_for(std::chrono::milliseconds(3 * period.count() / 1000));
    EXPECT_EQ(queued.size(), 2u);
    hb.stop();
}
