// The process_* values on this platform (Linux: /proc and getrlimit).
#include "core/common/process_stats.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>

using namespace tlsbroker::core;

TEST(process_stats, open_descriptors_follow_the_ones_opened) {
    const auto before = read_process_stats();
    ASSERT_TRUE(before.open_fds.has_value());
    int fds[3];
    for (auto& fd : fds) fd = open("/dev/null", O_RDONLY);
    const auto during = read_process_stats();
    for (const auto fd : fds) close(fd);
    EXPECT_EQ(*during.open_fds, *before.open_fds + 3);
    EXPECT_EQ(*read_process_stats().open_fds, *before.open_fds);
}

TEST(process_stats, limit_memory_cpu_and_start_time_are_the_processes) {
    rlimit r{};
    ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &r), 0);
    // Burn some CPU so that the ticks move.
    const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(30);
    volatile std::uint64_t spin = 0;
    while (std::chrono::steady_clock::now() < until) spin = spin + 1;
    const auto s = read_process_stats();
    ASSERT_TRUE(s.max_fds && s.resident_bytes && s.cpu_seconds && s.start_time_unix);
    EXPECT_EQ(*s.max_fds, static_cast<double>(r.rlim_cur));
    EXPECT_GT(*s.resident_bytes, 1024.0 * 1024);  // a test binary with OpenSSL and gtest
    EXPECT_GT(*s.cpu_seconds, 0.0);
    const auto now = static_cast<double>(
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count());
    // Started before now and (a unit test binary) not more than an hour ago.
    EXPECT_LE(*s.start_time_unix, now + 1);
    EXPECT_GT(*s.start_time_unix, now - 3600);
}
