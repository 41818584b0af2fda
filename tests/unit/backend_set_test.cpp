#include "core/backend_set.hpp"

#include <gtest/gtest.h>

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
    c.backend_policy = policy;
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
