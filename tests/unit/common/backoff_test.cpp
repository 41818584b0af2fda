#include "core/common/backoff.hpp"

#include <gtest/gtest.h>

using tlsbroker::core::backoff;
using ms = std::chrono::milliseconds;

TEST(backoff, doubles_from_10ms_to_1s_and_resets) {
    backoff b;
    EXPECT_EQ(b.next(), ms(10));
    EXPECT_EQ(b.next(), ms(20));
    EXPECT_EQ(b.next(), ms(40));
    for (int i = 0; i < 10; ++i) b.next();
    EXPECT_EQ(b.next(), ms(1000));
    b.reset();
    EXPECT_EQ(b.next(), ms(10));
}
