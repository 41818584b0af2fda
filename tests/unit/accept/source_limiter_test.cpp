#include "core/accept/source_limiter.hpp"

#include <gtest/gtest.h>

#include "core/accept/endpoint_admission.hpp"

using namespace tlsbroker::core;
using v = source_limiter::verdict;

namespace {
const auto a = boost::asio::ip::make_address("192.0.2.1");
const auto b = boost::asio::ip::make_address("192.0.2.2");
}  // namespace

TEST(source_limiter, caps_live_connections_per_address) {
    source_limiter l(2, 0, 0);
    const auto t = source_limiter::clock::now();
    EXPECT_EQ(l.admit(a, t), v::ok);
    EXPECT_EQ(l.admit(a, t), v::ok);
    EXPECT_EQ(l.admit(a, t), v::too_many);
    EXPECT_EQ(l.admit(b, t), v::ok);  // others are not affected
    l.release(a);
    EXPECT_EQ(l.admit(a, t), v::ok);
}

TEST(source_limiter, token_bucket_rate_with_burst) {
    source_limiter l(0, 10, 3);  // 10/s, burst 3
    auto t = source_limiter::clock::now();
    for (int i = 0; i < 3; ++i) EXPECT_EQ(l.admit(a, t), v::ok);
    EXPECT_EQ(l.admit(a, t), v::too_fast);
    EXPECT_EQ(l.admit(b, t), v::ok);
    t += std::chrono::milliseconds(100);  // one token back
    EXPECT_EQ(l.admit(a, t), v::ok);
    EXPECT_EQ(l.admit(a, t), v::too_fast);
}

TEST(source_limiter, off_when_zero) {
    source_limiter l(0, 0, 0);
    EXPECT_FALSE(l.enabled());
    const auto t = source_limiter::clock::now();
    for (int i = 0; i < 1000; ++i) EXPECT_EQ(l.admit(a, t), v::ok);
}

// accept_proxy: a slot reserved at accept is counted against its source once it is named.
TEST(source_limiter, reserved_slot_is_limited_by_the_source_named_later) {
    endpoint_admission::limits lim;
    lim.max_connections = 10;
    lim.per_source.max_connections_per_source = 1;
    auto adm = std::make_shared<endpoint_admission>(lim);
    using sv = connection_slot::source_verdict;
    auto first = adm->reserve();
    auto second = adm->reserve();
    EXPECT_EQ(adm->active(), 2u);
    EXPECT_EQ(adm->tracked_sources(), 0u);
    EXPECT_EQ(first.name_source(a), sv::admitted);
    EXPECT_EQ(first.name_source(b), sv::admitted);  // named once; later calls change nothing
    EXPECT_EQ(second.name_source(a), sv::too_many);
    EXPECT_EQ(second.name_source(b), sv::admitted);
    EXPECT_EQ(adm->admit(a).outcome, endpoint_admission::verdict::too_many_from_source);
    first.release();
    EXPECT_EQ(adm->active(), 1u);
    auto third = adm->admit(a);
    EXPECT_TRUE(third.slot);
    second.release();
    third.slot.release();
    EXPECT_EQ(adm->active(), 0u);
}
