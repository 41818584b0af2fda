#include "core/common/log_folding.hpp"

#include <gtest/gtest.h>

#include <string>

using tlsbroker::log::line_folder;
using ms = std::chrono::milliseconds;

namespace {
const line_folder::time_point t0{};
}

TEST(line_folder, first_line_written_repeats_folded_until_window_ends) {
    line_folder r(ms(1000));
    auto d = r.check("k", t0);
    EXPECT_TRUE(d.write);
    EXPECT_EQ(d.suppressed, 0u);

    EXPECT_FALSE(r.check("k", t0 + ms(1)).write);
    EXPECT_FALSE(r.check("k", t0 + ms(500)).write);
    d = r.check("k", t0 + ms(999));
    EXPECT_FALSE(d.write);
    EXPECT_EQ(d.suppressed, 3u);

    d = r.check("k", t0 + ms(1000));
    EXPECT_TRUE(d.write);
    EXPECT_EQ(d.suppressed, 3u);  // reported on this line

    // The window restarts from the written line and the count starts over.
    EXPECT_FALSE(r.check("k", t0 + ms(1500)).write);
    d = r.check("k", t0 + ms(2000));
    EXPECT_TRUE(d.write);
    EXPECT_EQ(d.suppressed, 1u);
    d = r.check("k", t0 + ms(5000));
    EXPECT_TRUE(d.write);
    EXPECT_EQ(d.suppressed, 0u);
}

TEST(line_folder, keys_are_independent) {
    line_folder r(ms(1000));
    EXPECT_TRUE(r.check("a", t0).write);
    EXPECT_TRUE(r.check("b", t0).write);
    EXPECT_FALSE(r.check("a", t0 + ms(10)).write);
    EXPECT_FALSE(r.check("b", t0 + ms(10)).write);
    EXPECT_FALSE(r.check("b", t0 + ms(20)).write);
    EXPECT_EQ(r.check("a", t0 + ms(1000)).suppressed, 1u);
    EXPECT_EQ(r.check("b", t0 + ms(1000)).suppressed, 2u);
}

TEST(line_folder, zero_window_writes_every_line) {
    line_folder r(ms(0));
    for (int i = 0; i < 5; ++i) {
        const auto d = r.check("k", t0);
        EXPECT_TRUE(d.write);
        EXPECT_EQ(d.suppressed, 0u);
    }
    EXPECT_EQ(r.size(), 0u);
}

TEST(line_folder, window_can_change) {
    line_folder r(ms(1000));
    EXPECT_TRUE(r.check("k", t0).write);
    EXPECT_FALSE(r.check("k", t0 + ms(100)).write);
    r.set_window(ms(50));
    EXPECT_EQ(r.window(), ms(50));
    const auto d = r.check("k", t0 + ms(100));
    EXPECT_TRUE(d.write);
    EXPECT_EQ(d.suppressed, 1u);
}

TEST(line_folder, stays_bounded_and_drops_expired_keys_first) {
    line_folder r(ms(1000), 4);
    for (int i = 0; i < 4; ++i) EXPECT_TRUE(r.check("old" + std::to_string(i), t0).write);
    EXPECT_EQ(r.size(), 4u);
    // All four windows are over: the next new key sweeps them away.
    EXPECT_TRUE(r.check("new", t0 + ms(2000)).write);
    EXPECT_EQ(r.size(), 1u);
}

TEST(line_folder, evicts_the_oldest_when_every_window_is_open) {
    line_folder r(ms(10000), 3);
    EXPECT_TRUE(r.check("a", t0).write);
    EXPECT_TRUE(r.check("b", t0 + ms(1)).write);
    EXPECT_TRUE(r.check("c", t0 + ms(2)).write);
    EXPECT_FALSE(r.check("a", t0 + ms(3)).write);  // one repeat folded for "a"

    EXPECT_TRUE(r.check("d", t0 + ms(4)).write);  // "a" was written longest ago
    EXPECT_EQ(r.size(), 3u);
    EXPECT_EQ(r.lost_suppressed(), 1u);
    EXPECT_TRUE(r.check("a", t0 + ms(5)).write);   // forgotten, so written again
    EXPECT_FALSE(r.check("d", t0 + ms(6)).write);  // still remembered

    // A flood of distinct keys never grows the map past its bound.
    for (int i = 0; i < 1000; ++i) r.check("flood" + std::to_string(i), t0 + ms(10 + i));
    EXPECT_EQ(r.size(), 3u);
}

TEST(line_folder, default_bound_is_1024_keys) {
    line_folder r;
    EXPECT_EQ(r.max_keys(), 1024u);
    for (int i = 0; i < 1500; ++i) r.check(std::to_string(i), t0 + ms(i % 7));
    EXPECT_LE(r.size(), 1024u);
}
