// A certificate that expires in 5 days: one warning at the 7-day threshold at start (logged
// and counted), none again at later checks; its expiry shows in /metrics, /status and the
// listener's days-left counter.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "core/common/log.hpp"
#include "support/broker_harness.hpp"
#include "support/echo_backend.hpp"
#include "support/test_certs.hpp"
#include "support/wait.hpp"

using namespace tlsbroker;
using namespace std::chrono_literals;

namespace {

nlohmann::json status_of(const test::broker_harness& broker) {
    int code = 0;
    const auto body = test::http_get(broker.status_port(), "/status", code);
    return code == 200 ? nlohmann::json::parse(body) : nlohmann::json();
}

}  // namespace

TEST(cert_expiry_warning, five_days_left_warns_once_at_the_seven_day_threshold) {
    log::capture lines;
    const auto dir = test::make_temp_dir("expiry");
    const auto soon =
        test::make_self_signed(dir, "soon", "soon.example", test::key_type::ecdsa_p256, std::chrono::hours(24 * 5));
    test::echo_backend backend;
    test::broker_harness broker(
        backend.port(),
        {{"tls", {{"reload_check_s", 1}}},
         {"listeners", {{{"tls", {{"certificate", soon.cert.string()}, {"private_key", soon.key.string()}}}}}}});

    EXPECT_EQ(broker.total(core::counter::certificate_expiry_warnings), 1u);
    EXPECT_EQ(lines.count("expires in less than 7 days"), 1u);
    EXPECT_EQ(lines.count(soon.cert.string()), 1u);

    // Several more checks pass: no second warning for the same threshold.
    ASSERT_TRUE(
        test::wait_until([&] { return status_of(broker)["certificate_watch"]["checks"].get<int>() >= 3; }, 10s));
    EXPECT_EQ(broker.total(core::counter::certificate_expiry_warnings), 1u);
    EXPECT_EQ(lines.count("expires in less than"), 1u);

    // Days left: 4 whole days (5 days minus a few seconds), per listener and in the total.
    EXPECT_EQ(broker.counter(core::counter::certificate_expiry_days), 4u);
    EXPECT_EQ(broker.total(core::counter::certificate_expiry_days), 4u);

    const auto st = status_of(broker);
    const auto& cert = st["listeners"][0]["certificates"][0];
    EXPECT_EQ(cert["name"], "default");
    EXPECT_EQ(cert["file"], soon.cert.string());
    EXPECT_EQ(cert["days_left"], 4);
    EXPECT_EQ(cert["serial"], test::serial_hex(soon.cert));
    EXPECT_GT(cert["expires_in_s"].get<std::int64_t>(), 5 * 86400 - 120);
    EXPECT_LE(cert["expires_in_s"].get<std::int64_t>(), 5 * 86400);

    int code = 0;
    const auto metrics = test::http_get(broker.status_port(), "/metrics", code);
    ASSERT_EQ(code, 200);
    const std::string sample = "tlsbroker_certificate_expiry_seconds{listener=\"test\",name=\"default\"} ";
    const auto at = metrics.find(sample);
    ASSERT_NE(at, std::string::npos) << metrics;
    const auto seconds = std::stoll(metrics.substr(at + sample.size()));
    EXPECT_GT(seconds, 5 * 86400 - 120);
    EXPECT_LE(seconds, 5 * 86400);
    EXPECT_NE(metrics.find("tlsbroker_certificate_expiry_warnings_total 1\n"), std::string::npos);
    EXPECT_NE(metrics.find("tlsbroker_certificate_expiry_days_min{listener=\"test\"} 4\n"), std::string::npos);
}
