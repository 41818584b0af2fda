// Logging under systemd (service/posix/journal.hpp): JOURNAL_STREAM is trusted only when it
// names stderr's own device and inode; each line gets its syslog priority as "<N>" and no
// timestamp, and stays one line whatever the message holds.
#include "service/posix/journal.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <string>

#include "core/common/log.hpp"

using namespace tlsbroker;

TEST(journal, priorities_are_syslog_levels) {
    EXPECT_EQ(service::journal_priority(log::level::error), 3);
    EXPECT_EQ(service::journal_priority(log::level::warning), 4);
    EXPECT_EQ(service::journal_priority(log::level::info), 6);
    EXPECT_EQ(service::journal_priority(log::level::debug), 7);
    EXPECT_EQ(service::journal_priority(log::level::trace), 7);
}

TEST(journal, a_line_is_the_priority_and_the_message_with_no_timestamp) {
    EXPECT_EQ(service::journal_line(log::level::error, "listener 'site' cannot bind"),
              "<3>listener 'site' cannot bind");
    EXPECT_EQ(service::journal_line(log::level::info, ""), "<6>");
}

TEST(journal, the_stream_must_name_this_device_and_inode) {
    EXPECT_TRUE(service::journal_stream_matches("8:123456", 8, 123456));
    EXPECT_FALSE(service::journal_stream_matches("8:123457", 8, 123456));
    EXPECT_FALSE(service::journal_stream_matches("9:123456", 8, 123456));
    for (const char* bad : {"", ":", "8:", ":123456", "8-123456", "8:123456x", "x8:123456", "8:12:34"})
        EXPECT_FALSE(service::journal_stream_matches(bad, 8, 123456)) << bad;
}

TEST(journal, the_sink_writes_one_prefixed_line_per_record) {
    int fds[2];
    ASSERT_EQ(::pipe2(fds, O_CLOEXEC | O_NONBLOCK), 0);
    const auto previous = log::current_level();
    log::set_level(log::level::debug);
    auto sink = service::make_journal_sink(fds[1]);
    log::add_sink(sink);
    TB_LOG_ERROR("one");
    TB_LOG_WARN("two\nforged line");
    TB_LOG_INFO("three");
    TB_LOG_DEBUG("four");
    log::remove_sink(sink);
    log::set_level(previous);

    std::string got;
    char buf[4096];
    for (ssize_t n; (n = ::read(fds[0], buf, sizeof buf)) > 0;) got.append(buf, static_cast<std::size_t>(n));
    ::close(fds[0]);
    ::close(fds[1]);
    EXPECT_EQ(got, "<3>one\n<4>two\\x0aforged line\n<6>three\n<7>four\n");
}
