// core/write_stall.hpp: what begins a write stall and what ends it.
#include "core/write_stall.hpp"

#include <gtest/gtest.h>

namespace {

using tlsbroker::core::write_stall;
using namespace std::chrono_literals;

const auto t0 = write_stall::clock::time_point{} + 1h;

TEST(write_stall, begins_at_the_first_wait_and_not_again) {
    write_stall s(64 * 1024);
    EXPECT_FALSE(s.stalled());
    EXPECT_TRUE(s.blocked(t0));
    EXPECT_FALSE(s.blocked(t0 + 3s));  // still the same stall
    EXPECT_EQ(s.since(), t0);
}

TEST(write_stall, bursts_below_the_progress_mark_do_not_end_it) {
    write_stall s(256 * 1024);
    s.blocked(t0);
    for (int i = 0; i < 4; ++i) s.took(41 * 1024);  // a receiver's window reopening now and then
    EXPECT_TRUE(s.stalled());
    EXPECT_EQ(s.since(), t0);
}

TEST(write_stall, ends_once_the_peer_took_the_progress_mark) {
    write_stall s(256 * 1024);
    s.blocked(t0);
    s.took(200 * 1024);
    s.took(56 * 1024);
    EXPECT_FALSE(s.stalled());
    EXPECT_TRUE(s.blocked(t0 + 5s));  // a new stall starts from zero
    s.took(200 * 1024);
    EXPECT_TRUE(s.stalled());
    EXPECT_EQ(s.since(), t0 + 5s);
}

TEST(write_stall, ends_when_the_peer_has_everything) {
    write_stall s(256 * 1024);
    s.blocked(t0);
    s.took(1000);
    s.drained();
    EXPECT_FALSE(s.stalled());
}

TEST(write_stall, bytes_taken_outside_a_stall_count_for_nothing) {
    write_stall s(256 * 1024);
    s.took(1024 * 1024);
    s.blocked(t0);
    s.took(100 * 1024);
    EXPECT_TRUE(s.stalled());
}

}  // namespace
