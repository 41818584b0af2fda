// An expired certificate never takes the site down: with two listeners, one serving an expired
// certificate, the broker starts, both listeners serve (the expired one its expired
// certificate), and the expired one is marked degraded in /status, /metrics, its counter and
// /healthz (503, naming it and the date), logged once per check. Renewing the files clears it.
#include <gtest/gtest.h>
#include <openssl/ssl.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/common/log.hpp"
#include "support/broker_harness.hpp"
#include "support/echo_backend.hpp"
#include "support/test_certs.hpp"
#include "support/tls_client.hpp"
#include "support/wait.hpp"

using namespace tlsbroker;
using namespace std::chrono_literals;

TEST(cert_expired_listener, the_broker_starts_the_other_listener_serves_and_healthz_names_the_degraded_one) {
    log::capture lines;
    const auto dir = test::make_temp_dir("expired");
    const auto old = test::make_self_signed(dir, "old", "old.example", test::key_type::ecdsa_p256, -1h);
    test::echo_backend backend;
    test::broker_harness broker(backend.port(),
                                {{"tls", {{"reload_check_s", 1}}},
                                 {"listeners",
                                  {nlohmann::json::object(),
                                   {{"name", "expired"},
                                    {"listen", "127.0.0.1:0"},
                                    {"tls", {{"certificate", old.cert.string()}, {"private_key", old.key.string()}}},
                                    {"backend", {{"address", "127.0.0.1:" + std::to_string(backend.port())}}}}}}});

    // Both serve; the degraded one its expired certificate (clients that check dates refuse it).
    EXPECT_EQ(test::served_serial(broker.port(0)), test::serial_hex(broker.dir() / "server.crt"));
    EXPECT_EQ(test::served_serial(broker.port(1)), test::serial_hex(old.cert));
    test::tls_client fine;
    ASSERT_TRUE(fine.open(broker.port(0)));
    std::string got;
    ASSERT_TRUE(fine.write_all("ping") && fine.read_exact(4, got));
    EXPECT_EQ(got, "ping");

    int code = 0;
    const auto health = test::http_get(broker.status_port(), "/healthz", code);
    EXPECT_EQ(code, 503);
    EXPECT_EQ(health.rfind("degraded: listener 'expired': certificate " + old.cert.string(), 0), 0u) << health;
    EXPECT_NE(health.find("expired at "), std::string::npos) << health;
    EXPECT_EQ(health.find("'test'"), std::string::npos) << "only the degraded listener is named: " << health;
    EXPECT_TRUE(broker.server().healthy()) << "the watchdog's verdict (systemd's heartbeat) is not touched";
    EXPECT_EQ(broker.total(core::counter::healthy), 1u);

    const auto st = nlohmann::json::parse(test::http_get(broker.status_port(), "/status", code));
    EXPECT_EQ(st["listeners"][0]["degraded"], false);
    EXPECT_TRUE(st["listeners"][0]["degraded_reason"].is_null());
    EXPECT_EQ(st["listeners"][1]["degraded"], true);
    EXPECT_NE(st["listeners"][1]["degraded_reason"].get<std::string>().find("expired at "), std::string::npos);
    const auto metrics = test::http_get(broker.status_port(), "/metrics", code);
    EXPECT_NE(metrics.find("tlsbroker_listener_degraded{listener=\"test\"} 0\n"), std::string::npos);
    EXPECT_NE(metrics.find("tlsbroker_listener_degraded{listener=\"expired\"} 1\n"), std::string::npos);
    EXPECT_EQ(broker.counter(core::counter::listener_degraded, 1), 1u);
    EXPECT_EQ(broker.counter(core::counter::listener_degraded, 0), 0u);
    EXPECT_EQ(broker.total(core::counter::listener_degraded), 1u);
    EXPECT_GE(lines.count("listener 'expired' is degraded: certificate"), 1u);

    // The renewal lands (certificate, then key): the degradation clears, the switch is logged
    // with both fingerprints, and the renewed certificate serves.
    const auto renewed = test::make_self_signed(test::make_temp_dir("renewed"), "renewed", "old.example");
    test::replace_file(old.cert, test::read_file_text(renewed.cert));
    test::replace_file(old.key, test::read_file_text(renewed.key));
    ASSERT_TRUE(test::wait_until(
        [&] {
            int c = 0;
            test::http_get(broker.status_port(), "/healthz", c);
            return c == 200;
        },
        15s));
    EXPECT_EQ(test::served_serial(broker.port(1)), test::serial_hex(renewed.cert));
    EXPECT_EQ(broker.counter(core::counter::listener_degraded, 1), 0u);
    EXPECT_EQ(broker.total(core::counter::listener_degraded), 0u);
    EXPECT_EQ(broker.total(core::counter::certificate_reloads_ok), 1u);
    EXPECT_EQ(lines.count("listener 'expired' (default) switched certificate from SHA256:"), 1u);
}

TEST(cert_expired_listener, a_certificate_not_yet_valid_degrades_its_listener_too) {
    const auto dir = test::make_temp_dir("early");
    const auto early = test::make_self_signed(dir, "early", "early.example", test::key_type::ecdsa_p256, 24h);
    // make_self_signed starts validity an hour ago: re-sign it to start tomorrow.
    test::make_not_yet_valid(early, 3h);
    test::echo_backend backend;
    test::broker_harness broker(
        backend.port(),
        {{"listeners", {{{"tls", {{"certificate", early.cert.string()}, {"private_key", early.key.string()}}}}}}});
    int code = 0;
    const auto health = test::http_get(broker.status_port(), "/healthz", code);
    EXPECT_EQ(code, 503);
    EXPECT_NE(health.find("is not valid before "), std::string::npos) << health;
    EXPECT_EQ(test::served_serial(broker.port()), test::serial_hex(early.cert));
}
