#include "core/common/histogram.hpp"

#include <gtest/gtest.h>

#include <array>

using namespace tlsbroker::core;

namespace {

constexpr std::array<std::uint64_t, 4> bounds{10, 20, 50, 100};

histogram_counts counts_of(std::array<std::uint64_t, 5> per_bucket) {
    histogram_counts c;
    std::copy(per_bucket.begin(), per_bucket.end(), c.buckets.begin());
    return c;
}

}  // namespace

TEST(histogram, an_observation_lands_in_the_first_bound_it_does_not_exceed) {
    EXPECT_EQ(bucket_of(bounds, 0), 0u);
    EXPECT_EQ(bucket_of(bounds, 10), 0u);  // le: a bound is inclusive
    EXPECT_EQ(bucket_of(bounds, 11), 1u);
    EXPECT_EQ(bucket_of(bounds, 100), 3u);
    EXPECT_EQ(bucket_of(bounds, 101), 4u);  // above the last bound: +Inf
}

TEST(histogram, quantiles_interpolate_inside_the_bucket) {
    // 10 observations: 4 in (0,10], 4 in (10,20], 2 in (50,100].
    const auto c = counts_of({4, 4, 0, 2, 0});
    EXPECT_DOUBLE_EQ(*quantile(c, bounds, 0.5), 12.5);  // rank 5: 1 of 4 into (10,20]
    EXPECT_DOUBLE_EQ(*quantile(c, bounds, 0.2), 5.0);   // rank 2: half of (0,10]
    EXPECT_DOUBLE_EQ(*quantile(c, bounds, 0.9), 75.0);  // rank 9: 1 of 2 into (50,100]
    EXPECT_DOUBLE_EQ(*quantile(c, bounds, 0.99), 97.5);
    EXPECT_DOUBLE_EQ(*quantile(c, bounds, 1.0), 100.0);
}

TEST(histogram, a_rank_above_the_last_bound_gives_the_last_bound_and_none_gives_nothing) {
    EXPECT_DOUBLE_EQ(*quantile(counts_of({1, 0, 0, 0, 9}), bounds, 0.5), 100.0);
    EXPECT_FALSE(quantile(counts_of({0, 0, 0, 0, 0}), bounds, 0.5).has_value());
}

TEST(histogram, a_block_counts_and_sums_each_histogram_apart) {
    histogram_block b;
    b.observe(histogram::handshake_full, 1'500);  // µs: (1 ms, 2.5 ms]
    b.observe(histogram::handshake_full, 40'000'000);
    b.observe(histogram::handshake_resumed, 300);
    const auto full = b.read(histogram::handshake_full);
    EXPECT_EQ(full.count(), 2u);
    EXPECT_EQ(full.sum, 40'001'500u);
    EXPECT_EQ(full.buckets[1], 1u);
    EXPECT_EQ(full.buckets[info(histogram::handshake_full).bounds.size()], 1u);  // +Inf
    EXPECT_EQ(b.read(histogram::handshake_resumed).buckets[0], 1u);
    EXPECT_EQ(b.read(histogram::backend_connect).count(), 0u);
}

TEST(histogram, the_window_is_the_last_six_ticks) {
    constexpr std::uint64_t t0 = 1'000'000;
    histogram_block b(t0);
    b.observe(histogram::session_bytes, 100);
    auto w = b.last_window(t0 + 5'000);
    EXPECT_EQ(w.counts[static_cast<std::size_t>(histogram::session_bytes)].count(), 1u);  // since creation
    EXPECT_DOUBLE_EQ(w.seconds, 5.0);
    for (std::uint64_t i = 1; i <= 6; ++i) b.tick(t0 + i * histogram_block::window_step_ms);
    // Six ticks later the oldest snapshot (t0 + 10 s) already holds the observation.
    w = b.last_window(t0 + 65'000);
    EXPECT_EQ(w.counts[static_cast<std::size_t>(histogram::session_bytes)].count(), 0u);
    EXPECT_DOUBLE_EQ(w.seconds, 55.0);
    b.observe(histogram::session_bytes, 5'000);
    w = b.last_window(t0 + 66'000);
    const auto& bytes = w.counts[static_cast<std::size_t>(histogram::session_bytes)];
    EXPECT_EQ(bytes.count(), 1u);
    EXPECT_EQ(bytes.sum, 5'000u);
}

TEST(histogram, the_table_names_each_histogram_in_enum_order) {
    for (std::size_t i = 0; i < histogram_count; ++i) {
        const auto& h = histogram_table()[i];
        EXPECT_EQ(static_cast<std::size_t>(h.id), i);
        EXPECT_FALSE(h.bounds.empty());
    }
    // 1 ms to 30 s for handshakes, as the issue asks.
    EXPECT_EQ(info(histogram::handshake_full).bounds.front(), 1'000u);
    EXPECT_EQ(info(histogram::handshake_full).bounds.back(), 30'000'000u);
}
