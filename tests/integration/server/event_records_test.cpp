// What reaches the Event Log is decided by the tags of log records (core/common/log_event.hpp):
// the broker's events carry their type and insertion strings from the real call sites, and
// client noise (a failed handshake) is marked per-client so it never gets there.
#include <gtest/gtest.h>

#include <fstream>

#include "core/common/log.hpp"
#include "support/broker_harness.hpp"
#include "support/echo_backend.hpp"
#include "support/tls_client.hpp"
#include "support/wait.hpp"

using namespace tlsbroker;
using namespace std::chrono_literals;

namespace {

// The first captured record of type `e`, if any.
std::optional<log::tags> find(const log::capture& cap, log::event e) {
    for (const auto& t : cap.tagged())
        if (t.type == e) return t;
    return std::nullopt;
}

}  // namespace

TEST(event_records, listener_bound_and_reload_events_carry_their_strings) {
    log::capture cap;
    test::echo_backend backend;
    // listener_bound and reload_applied are info-level events: written from log level info on.
    test::broker_harness broker(backend.port(), {{"log", {{"level", "info"}}}});
    const auto bound = find(cap, log::event::listener_bound);
    ASSERT_TRUE(bound.has_value());
    ASSERT_EQ(bound->strings.size(), 2u);
    EXPECT_EQ(bound->strings[0], broker.server().current_config()->listeners[0].name);
    EXPECT_EQ(bound->strings[1], "127.0.0.1:" + std::to_string(broker.port()));

    // A config file with two problems: one event with both, each problem a detail line too.
    const auto bad = broker.dir() / "bad.json";
    std::ofstream(bad) << R"({"listeners": [{"listen": "nowhere", "backlog": -1}]})";
    EXPECT_FALSE(broker.server().reload(bad).ok);
    const auto rejected = find(cap, log::event::reload_rejected);
    ASSERT_TRUE(rejected.has_value());
    ASSERT_EQ(rejected->strings.size(), 3u);
    EXPECT_EQ(rejected->strings[0], bad.string());
    EXPECT_NE(rejected->strings[1], "0");
    EXPECT_NE(rejected->strings[2].find("/listeners/0/listen"), std::string::npos) << rejected->strings[2];
    std::size_t details = 0;
    for (const auto& t : cap.tagged()) details += t.from == log::origin::detail ? 1 : 0;
    EXPECT_EQ(std::to_string(details), rejected->strings[1]);

    // The running config again: applied.
    EXPECT_TRUE(broker.server().reload(broker.server().current_config()).ok);
    const auto applied = find(cap, log::event::reload_applied);
    ASSERT_TRUE(applied.has_value());
    ASSERT_EQ(applied->strings.size(), 1u);
    EXPECT_FALSE(applied->strings[0].empty());
    EXPECT_TRUE(cap.contains("reload applied: " + applied->strings[0]));
}

TEST(event_records, a_failed_handshake_is_a_per_client_record) {
    test::echo_backend backend;
    test::broker_harness broker(backend.port());
    log::capture cap;
    test::tls_client g;
    ASSERT_TRUE(g.connect(broker.port()));
    ASSERT_TRUE(g.write_raw("GET / HTTP/1.0\r\n\r\nthis is not TLS at all"));
    EXPECT_TRUE(g.wait_closed(5s));
    ASSERT_TRUE(test::wait_until([&] { return cap.count("handshake-error: ") > 0; }, 5s));
    // Every warning or error written about it is marked per-client, none has an event type.
    const auto tagged = cap.tagged();
    const auto lines = cap.lines();
    std::size_t untagged_warnings = 0;
    for (const auto& l : lines)
        if (l.rfind("[warning]", 0) == 0 || l.rfind("[error]", 0) == 0) ++untagged_warnings;
    std::size_t client = 0;
    for (const auto& t : tagged) {
        EXPECT_EQ(t.type, log::event::none);
        client += t.from == log::origin::client ? 1 : 0;
    }
    EXPECT_GE(client, 1u);
    EXPECT_LE(untagged_warnings, client) << "a warning about the client without the per-client mark";
}
