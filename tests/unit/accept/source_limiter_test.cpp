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

TEST(source_limiter, ipv6_clients_are_counted_per_64) {
    source_limiter l(2, 0, 0);
    const auto t = source_limiter::clock::now();
    const auto one = boost::asio::ip::make_address("2001:db8:1:2::10");
    const auto same_64 = boost::asio::ip::make_address("2001:db8:1:2:a1b2:c3d4:e5f6:1");
    const auto other_64 = boost::asio::ip::make_address("2001:db8:1:3::10");
    EXPECT_EQ(l.admit(one, t), v::ok);
    EXPECT_EQ(l.admit(same_64, t), v::ok);
    EXPECT_EQ(l.admit(same_64, t), v::too_many) << "a second address in the same /64 is the same source";
    EXPECT_EQ(l.admit(other_64, t), v::ok) << "another /64 is another source";
    EXPECT_EQ(l.tracked(), 2u);
    l.release(one);  // released under another address of the /64: the shared count goes down
    EXPECT_EQ(l.admit(same_64, t), v::ok);
}

TEST(source_limiter, an_ipv4_mapped_address_is_its_ipv4_source) {
    source_limiter l(1, 0, 0);
    const auto t = source_limiter::clock::now();
    EXPECT_EQ(l.admit(a, t), v::ok);
    EXPECT_EQ(l.admit(boost::asio::ip::make_address("::ffff:192.0.2.1"), t), v::too_many);
    EXPECT_EQ(l.admit(boost::asio::ip::make_address("::ffff:192.0.2.9"), t), v::ok);
    EXPECT_NE(source_limiter::key_of(a), source_limiter::key_of(boost::asio::ip::make_address("::")));
}

namespace {

boost::asio::ip::address nth_v4(std::uint32_t n) { return boost::asio::ip::address_v4(0x0a000000u + n); }

// The /64 number n inside one /32: the part of the address a client with a /48 or /56 picks.
boost::asio::ip::address nth_v6_64(std::uint32_t n) {
    boost::asio::ip::address_v6::bytes_type b{0x20, 0x01, 0x0d, 0xb8};
    b[4] = static_cast<unsigned char>(n >> 24);
    b[5] = static_cast<unsigned char>(n >> 16);
    b[6] = static_cast<unsigned char>(n >> 8);
    b[7] = static_cast<unsigned char>(n);
    b[15] = 1;
    return boost::asio::ip::address_v6(b);
}

}  // namespace

// An accept's cost must not grow with the number of sources. The work besides one hash
// lookup is pruning, counted by prune_steps(): with every source holding a connection
// (nothing to forget), the old code scanned the whole table on every admit past 65,536
// sources; now an admit looks at no more than prune_per_admit idle entries.
TEST(source_limiter, the_work_per_accept_does_not_grow_with_the_number_of_sources) {
    source_limiter l(4, 0, 0);
    const auto t = source_limiter::clock::now();
    const std::uint32_t n = source_limiter::prune_above + 50000;
    std::uint64_t before = 0;
    for (std::uint32_t i = 0; i < n; ++i) {
        if (i == source_limiter::prune_above) before = l.prune_steps();
        ASSERT_EQ(l.admit(i % 2 ? nth_v4(i) : nth_v6_64(i), t), v::ok);
    }
    EXPECT_EQ(l.tracked(), n);  // all live: none may be forgotten
    EXPECT_LE(l.prune_steps() - before,
              std::uint64_t{source_limiter::prune_per_admit} * (n - source_limiter::prune_above));
    EXPECT_EQ(l.prune_steps(), 0u) << "no idle source, nothing to look at";
    // Hashing spreads sources that differ only in their subnet bits.
    EXPECT_LE(l.longest_bucket(), 12u);
}

// Idle sources are forgotten a few per accept, oldest first, once their bucket is full again,
// so an address-spraying flood cannot grow the table without bound.
TEST(source_limiter, idle_sources_are_forgotten_a_few_per_accept) {
    source_limiter l(0, 10, 2);  // a bucket refills in 0.2 s
    auto t = source_limiter::clock::now();
    const std::uint32_t n = source_limiter::prune_above + 1000;
    for (std::uint32_t i = 0; i < n; ++i) {
        ASSERT_EQ(l.admit(nth_v4(i), t), v::ok);
        l.release(nth_v4(i));
    }
    // Still refilling: nothing is forgotten, and each admit looked at one entry only.
    const auto steps = l.prune_steps();
    EXPECT_LE(steps, n - source_limiter::prune_above);
    EXPECT_GE(l.tracked(), n);
    t += std::chrono::seconds(1);         // every bucket is full again
    const std::uint32_t newcomers = 400;  // each admit forgets two old sources and adds itself
    for (std::uint32_t i = 0; i < newcomers; ++i) {
        ASSERT_EQ(l.admit(nth_v4(1000000 + i), t), v::ok);
        l.release(nth_v4(1000000 + i));
    }
    EXPECT_EQ(l.tracked(), n - newcomers * source_limiter::prune_per_admit + newcomers);
    EXPECT_EQ(l.prune_steps() - steps, newcomers * source_limiter::prune_per_admit);
    // A source still refilling is kept: the flood cannot reset a throttled source's bucket.
    source_limiter m(0, 1, 1);
    const auto s = source_limiter::clock::now();
    ASSERT_EQ(m.admit(a, s), v::ok);
    m.release(a);
    for (std::uint32_t i = 0; i < source_limiter::prune_above + 10; ++i) {
        ASSERT_EQ(m.admit(nth_v4(i), s), v::ok);
        m.release(nth_v4(i));
    }
    EXPECT_EQ(m.admit(a, s), v::too_fast);
}
