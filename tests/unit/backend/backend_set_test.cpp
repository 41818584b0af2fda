#include "core/backend/backend_set.hpp"

#include <gtest/gtest.h>

#include <thread>

#include "support/blackhole.hpp"
#include "support/echo_backend.hpp"
#include "support/io_thread.hpp"
#include "support/wait.hpp"

using namespace tlsbroker;

namespace {
config::listener_config two_backends(const char* policy) {
    config::listener_config c;
    c.name = "t";
    for (const char* a : {"127.0.0.1:1001", "127.0.0.1:1002"}) {
        config::backend_config b;
        b.address.text = a;
        c.backends.push_back(b);
    }
    EXPECT_TRUE(config::from_string(policy, c.backend_policy)) << policy;
    c.backend_health.fail_threshold = 2;
    c.backend_health.cooldown_ms = 60000;
    return c;
}
}  // namespace

TEST(backend_set, first_policy_fails_over_after_threshold_and_comes_back) {
    core::backend_set s(two_backends("first"));
    EXPECT_EQ(s.order(), (std::vector<std::size_t>{0, 1}));
    s.report(0, false);
    EXPECT_EQ(s.order(), (std::vector<std::size_t>{0, 1}));  // one failure: still first
    s.report(0, false);
    EXPECT_EQ(s.order(), (std::vector<std::size_t>{1, 0}));  // down: tried last
    EXPECT_FALSE(s.snapshot()[0].up);
    EXPECT_EQ(s.snapshot()[0].marked_down, 1u);
    s.report(0, true);
    EXPECT_EQ(s.order(), (std::vector<std::size_t>{0, 1}));
    EXPECT_TRUE(s.snapshot()[0].up);
}

TEST(backend_set, round_robin_rotates) {
    core::backend_set s(two_backends("round_robin"));
    const auto a = s.order();
    const auto b = s.order();
    EXPECT_NE(a.front(), b.front());
}

TEST(backend_set, single_backend_key_still_works) {
    config::listener_config c;
    c.backend.address.text = "127.0.0.1:9";
    core::backend_set s(c);
    EXPECT_EQ(s.size(), 1u);
    EXPECT_EQ(s.at(0).address.text, "127.0.0.1:9");
}

namespace {
config::listener_config checked_backend(std::uint16_t port, std::uint32_t interval_ms, std::uint32_t timeout_ms) {
    config::listener_config c;
    c.name = "t";
    config::backend_config b;
    b.address = {"127.0.0.1", port, "127.0.0.1:" + std::to_string(port)};
    b.connect_timeout_ms = timeout_ms;
    c.backends.push_back(b);
    c.backend_health.fail_threshold = 1;
    c.backend_health.cooldown_ms = 60000;
    c.backend_health.check_interval_ms = interval_ms;
    return c;
}

}  // namespace

TEST(backend_set, a_check_of_a_black_holed_backend_runs_alone_and_ends_at_its_timeout) {
    using namespace std::chrono_literals;
    test::blackhole dead;
    test::io_thread l;  // before the set: the set's timers go before their io_context
    auto s = std::make_shared<core::backend_set>(checked_backend(dead.port(), 20, 300));
    s->report(0, false);  // down: the checks start
    s->start_checks(l.ioc);
    // Rounds every 20 ms, each check 300 ms: without "one at a time" 15 would be under way.
    std::size_t most = 0;
    const auto watch = [&](auto cond) {
        return test::wait_until(
            [&] {
                most = std::max(most, s->checks_in_flight());
                return cond();
            },
            3s);
    };
    EXPECT_TRUE(watch([&] { return s->checks_in_flight() == 1; }));
    EXPECT_TRUE(watch([&] { return s->checks_in_flight() == 0; })) << "a check without an answer never ended";
    EXPECT_TRUE(watch([&] { return s->checks_in_flight() == 1; })) << "the next round did not check again";
    EXPECT_EQ(most, 1u);
    EXPECT_FALSE(s->snapshot()[0].up);
    s->stop_checks();
    EXPECT_TRUE(test::wait_until([&] { return s->checks_in_flight() == 0; }, 3s));
}

TEST(backend_set, a_check_that_connects_marks_the_backend_up) {
    using namespace std::chrono_literals;
    test::echo_backend live;
    test::io_thread l;  // before the set: the set's timers go before their io_context
    auto s = std::make_shared<core::backend_set>(checked_backend(live.port(), 20, 300));
    s->report(0, false);
    s->start_checks(l.ioc);
    EXPECT_TRUE(test::wait_until([&] { return s->snapshot()[0].up; }, 3s));
    s->stop_checks();
}
