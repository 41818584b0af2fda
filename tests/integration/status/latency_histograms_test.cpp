// After a known number of full and resumed handshakes, /metrics has the handshake, backend
// connect, session duration and bytes histograms of the listener with exactly those counts
// (the text passes the strict parser), and /status shows their quantiles over the last minute.
#include <gtest/gtest.h>

#include <cmath>

#include "support/broker_harness.hpp"
#include "support/echo_backend.hpp"
#include "support/prometheus_parser.hpp"
#include "support/tls_client.hpp"
#include "support/wait.hpp"

using namespace tlsbroker;
using namespace std::chrono_literals;

namespace {

std::string errors_of(const test::prom_document& d) {
    std::string out;
    for (const auto& e : d.errors) out += e + "\n";
    return out;
}

}  // namespace

TEST(latency_histograms, count_full_and_resumed_handshakes_apart) {
    test::echo_backend backend;
    test::broker_harness broker(backend.port(), {{"listeners", {{{"name", "site"}}}}});
    constexpr int full = 3;
    constexpr int resumed = 2;
    SSL_SESSION* session = nullptr;
    for (int i = 0; i < full; ++i) {
        const auto a = test::connect_and_resume(broker.port(), TLS1_3_VERSION, nullptr);
        ASSERT_TRUE(a.relayed && !a.reused);
        SSL_SESSION_free(session);
        session = a.session;
    }
    ASSERT_NE(session, nullptr);
    for (int i = 0; i < resumed; ++i) {
        const auto a = test::connect_and_resume(broker.port(), TLS1_3_VERSION, session);
        ASSERT_TRUE(a.relayed && a.reused);
        SSL_SESSION_free(session);
        session = a.session;
    }
    SSL_SESSION_free(session);
    // Every session has ended (and observed its duration and bytes).
    ASSERT_TRUE(test::wait_until([&] { return broker.counter(core::counter::connections_active) == 0; }, 5s));

    int status = 0;
    const auto text = test::http_get(broker.status_port(), "/metrics", status);
    ASSERT_EQ(status, 200);
    const auto doc = test::parse_prometheus(text);
    ASSERT_TRUE(doc.ok()) << errors_of(doc) << text;
    const std::map<std::string, std::string> site{{"listener", "site"}};
    auto with = [&](std::map<std::string, std::string> extra) {
        extra.insert(site.begin(), site.end());
        return extra;
    };
    const std::string hs = "tlsbroker_handshake_duration_seconds";
    EXPECT_EQ(doc.value(hs + "_count", with({{"kind", "full"}})), full);
    EXPECT_EQ(doc.value(hs + "_bucket", with({{"kind", "full"}, {"le", "+Inf"}})), full);
    EXPECT_EQ(doc.value(hs + "_count", with({{"kind", "resumed"}})), resumed);
    // A loopback handshake ends well within 30 s: nothing above the last bound.
    EXPECT_EQ(doc.value(hs + "_bucket", with({{"kind", "full"}, {"le", "30"}})), full);
    EXPECT_GT(doc.value(hs + "_sum", with({{"kind", "full"}})), 0);
    EXPECT_EQ(doc.value("tlsbroker_backend_connect_duration_seconds_count", site), full + resumed);
    EXPECT_EQ(doc.value("tlsbroker_session_duration_seconds_count", site), full + resumed);
    EXPECT_EQ(doc.value("tlsbroker_session_bytes_count", site), full + resumed);
    EXPECT_GT(doc.value("tlsbroker_session_bytes_sum", site), 0);

    const auto j = nlohmann::json::parse(test::http_get(broker.status_port(), "/status", status));
    const auto& lat = j["listeners"][0]["latency"];
    EXPECT_EQ(lat["handshake_full_seconds"]["count"], full);
    EXPECT_EQ(lat["handshake_resumed_seconds"]["count"], resumed);
    const auto p50 = lat["handshake_full_seconds"]["p50"].get<double>();
    const auto p99 = lat["handshake_full_seconds"]["p99"].get<double>();
    EXPECT_GT(p50, 0);
    EXPECT_LE(p50, p99);
    EXPECT_LE(p99, 30.0);
    EXPECT_LE(lat["window_s"].get<double>(), 60.0);
}
