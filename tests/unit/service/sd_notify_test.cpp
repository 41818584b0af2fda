// systemd's notify protocol (service/posix/sd_notify.hpp): NOTIFY_SOCKET names a path or an
// abstract socket and nothing else; WATCHDOG_USEC counts only for the process WATCHDOG_PID
// names; each message reaches a recording socket as one datagram; a socket that is gone
// costs a counted, logged failure and nothing more.
#include "service/posix/sd_notify.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstddef>
#include <cstring>
#include <vector>

#include "core/common/log.hpp"
#include "support/notify_recorder.hpp"
#include "support/test_certs.hpp"
#include "support/wait.hpp"

using namespace tlsbroker;
using namespace std::chrono_literals;

TEST(sd_notify, a_path_is_an_address_with_its_terminating_nul) {
    std::string error;
    const auto a = service::parse_notify_socket("/run/systemd/notify", error);
    ASSERT_TRUE(a) << error;
    EXPECT_EQ(a->addr.sun_family, AF_UNIX);
    EXPECT_STREQ(a->addr.sun_path, "/run/systemd/notify");
    EXPECT_EQ(a->len, offsetof(sockaddr_un, sun_path) + std::strlen("/run/systemd/notify") + 1);
}

TEST(sd_notify, an_at_sign_names_an_abstract_socket_without_a_nul) {
    std::string error;
    const auto a = service::parse_notify_socket("@/org/freedesktop/systemd1/notify/42", error);
    ASSERT_TRUE(a) << error;
    EXPECT_EQ(a->addr.sun_path[0], '\0');
    EXPECT_EQ(std::string(a->addr.sun_path + 1, 35), "/org/freedesktop/systemd1/notify/42");
    EXPECT_EQ(a->len, offsetof(sockaddr_un, sun_path) + 36);
}

TEST(sd_notify, relative_vsock_empty_and_too_long_names_are_refused_with_a_reason) {
    const std::vector<std::string> refused{"", "run/notify", "vsock:2:1234",
                                           "/" + std::string(sizeof(sockaddr_un::sun_path), 'x')};
    for (const auto& bad : refused) {
        std::string error;
        EXPECT_FALSE(service::parse_notify_socket(bad, error)) << bad;
        EXPECT_FALSE(error.empty()) << bad;
    }
    // The longest that fits: a path leaves room for its NUL, an abstract name needs none.
    std::string error;
    EXPECT_TRUE(service::parse_notify_socket("/" + std::string(sizeof(sockaddr_un::sun_path) - 2, 'x'), error));
    EXPECT_TRUE(service::parse_notify_socket("@" + std::string(sizeof(sockaddr_un::sun_path) - 1, 'x'), error));
}

TEST(sd_notify, the_watchdog_interval_counts_only_for_the_process_it_names) {
    const pid_t self = ::getpid();
    const auto mine = std::to_string(self);
    const auto other = std::to_string(self + 1);
    EXPECT_EQ(service::watchdog_interval("30000000", nullptr, self), std::chrono::microseconds(30000000));
    EXPECT_EQ(service::watchdog_interval("30000000", mine.c_str(), self), std::chrono::microseconds(30000000));
    EXPECT_EQ(service::watchdog_interval("30000000", other.c_str(), self), std::nullopt);
    EXPECT_EQ(service::watchdog_interval("30000000", "x", self), std::nullopt);
    EXPECT_EQ(service::watchdog_interval(nullptr, nullptr, self), std::nullopt);
    EXPECT_EQ(service::watchdog_interval("0", nullptr, self), std::nullopt);
    EXPECT_EQ(service::watchdog_interval("30s", nullptr, self), std::nullopt);
    EXPECT_EQ(service::watchdog_interval("-5", nullptr, self), std::nullopt);
}

TEST(sd_notify, reloading_carries_the_monotonic_time_and_status_cannot_add_a_field) {
    const auto t = std::chrono::steady_clock::time_point(std::chrono::microseconds(123456789));
    EXPECT_EQ(service::reloading_message(t), "RELOADING=1\nMONOTONIC_USEC=123456789");
    EXPECT_EQ(service::status_field("bad\nREADY=1\r"), "STATUS=bad READY=1 ");
}

TEST(sd_notify, each_message_arrives_as_one_datagram_at_a_path_and_at_an_abstract_name) {
    const auto dir = test::make_temp_dir("sd-notify");
    for (const bool abstract : {false, true}) {
        test::notify_recorder rec(dir, abstract);
        service::sd_notifier n(rec.address());
        ASSERT_TRUE(n.enabled()) << rec.address();
        EXPECT_TRUE(n.send("READY=1\nSTATUS=accepting"));
        EXPECT_TRUE(n.send("WATCHDOG=1"));
        ASSERT_TRUE(test::wait_until([&] { return rec.messages().size() == 2; }, 5s)) << rec.address();
        EXPECT_EQ(rec.messages()[0], "READY=1\nSTATUS=accepting");
        EXPECT_EQ(rec.messages()[1], "WATCHDOG=1");
        EXPECT_EQ(n.failures(), 0u);
    }
}

TEST(sd_notify, without_notify_socket_nothing_is_sent_and_nothing_fails) {
    service::sd_notifier n("");
    EXPECT_FALSE(n.enabled());
    EXPECT_TRUE(n.send("READY=1"));
    EXPECT_EQ(n.failures(), 0u);
}

TEST(sd_notify, a_socket_that_is_gone_is_a_counted_logged_failure) {
    const auto dir = test::make_temp_dir("sd-notify-gone");
    log::capture cap;
    log::set_rate_limit(std::chrono::milliseconds(0));  // an earlier test may have used the key
    service::sd_notifier n((dir / "nobody.sock").string());
    ASSERT_TRUE(n.enabled());
    EXPECT_FALSE(n.send("READY=1"));
    EXPECT_EQ(n.failures(), 1u);
    EXPECT_TRUE(cap.contains("[warning] systemd: notify message READY=1 not sent")) << cap.lines().size();
}

TEST(sd_notify, failures_count_in_the_broker_counters_once_attached_earlier_ones_included) {
    const auto dir = test::make_temp_dir("sd-notify-counted");
    log::capture cap;
    service::sd_notifier n((dir / "nobody.sock").string());
    EXPECT_FALSE(n.send("STATUS=before the server exists"));
    core::counter_block total;
    n.count_in(total);
    EXPECT_EQ(total.get(core::counter::service_notify_failures), 1u);
    EXPECT_FALSE(n.send("READY=1"));
    EXPECT_EQ(total.get(core::counter::service_notify_failures), 2u);
    EXPECT_EQ(n.failures(), 2u);
}

TEST(sd_notify, an_unusable_notify_socket_is_logged_and_disables_sending) {
    log::capture cap;
    service::sd_notifier n("vsock:2:1234");
    EXPECT_FALSE(n.enabled());
    EXPECT_TRUE(cap.contains("[warning] systemd: NOTIFY_SOCKET not used"));
}
