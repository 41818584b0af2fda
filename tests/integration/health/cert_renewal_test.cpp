// Certificate files replaced on disk are picked up without a signal: a half-written file is
// refused (logged, counted) and the old certificate keeps serving; once the renewed
// certificate and key are both in place, new handshakes see the new serial while a TLS
// connection opened before goes on relaying.
#include <gtest/gtest.h>
#include <openssl/ssl.h>

#include <fstream>
#include <sstream>

#include "support/broker_harness.hpp"
#include "support/echo_backend.hpp"
#include "support/test_certs.hpp"
#include "support/tls_client.hpp"
#include "support/wait.hpp"

using namespace tlsbroker;
using namespace std::chrono_literals;

namespace {

bool echo(test::tls_client& c, const std::string& msg) {
    std::string got;
    return c.write_all(msg) && c.read_exact(msg.size(), got) && got == msg;
}

}  // namespace

TEST(cert_renewal, half_written_file_is_refused_and_renewed_pair_serves_new_handshakes_only) {
    test::echo_backend backend;
    const auto port = test::unused_port();
    test::broker_harness broker(backend.port(), {{"tls", {{"reload_check_s", 1}}},
                                                 {"listeners", {{{"listen", "127.0.0.1:" + std::to_string(port)}}}}});
    const auto cert = broker.dir() / "server.crt";
    const auto key = broker.dir() / "server.key";
    const auto old_serial = test::serial_hex(cert);
    ASSERT_EQ(test::served_serial(port), old_serial);

    test::tls_client live;
    live.set_timeout(10s);
    ASSERT_TRUE(live.open(port));
    ASSERT_TRUE(echo(live, "before"));

    const auto renewed_dir = test::make_temp_dir("renewed");
    const auto renewed = test::make_self_signed(renewed_dir, "renewed");
    const auto new_serial = test::serial_hex(renewed.cert);
    ASSERT_NE(new_serial, old_serial);
    const auto cert_text = test::read_file_text(renewed.cert);
    const auto key_text = test::read_file_text(renewed.key);

    // 1. Half a certificate, written in place (a writer that was interrupted).
    test::write_file(cert, cert_text.substr(0, cert_text.size() / 2));
    ASSERT_TRUE(test::wait_until([&] { return broker.total(core::counter::certificate_reloads_failed) >= 1; }, 15s));
    EXPECT_EQ(broker.total(core::counter::certificate_reloads_ok), 0u);
    EXPECT_EQ(test::served_serial(port), old_serial) << "the old certificate must keep serving";
    EXPECT_TRUE(echo(live, "during"));
    int code = 0;
    const auto st = nlohmann::json::parse(test::http_get(broker.status_port(), "/status", code));
    EXPECT_EQ(st["certificate_watch"]["last_pickup"]["ok"], false);
    EXPECT_NE(st["certificate_watch"]["last_pickup"]["errors"].dump().find("/listeners/0/tls/certificate"),
              std::string::npos)
        << st["certificate_watch"].dump();

    // 2. The renewal lands: certificate first, then the key (as certbot and win-acme may).
    test::replace_file(cert, cert_text);
    test::replace_file(key, key_text);
    ASSERT_TRUE(test::wait_until([&] { return broker.total(core::counter::certificate_reloads_ok) >= 1; }, 15s));
    EXPECT_EQ(test::served_serial(port), new_serial);

    // The connection opened before the renewal still relays.
    EXPECT_TRUE(echo(live, "after the renewal"));
    // Only it is left once the probing handshakes above have been closed on the broker's side.
    EXPECT_TRUE(test::wait_until([&] { return broker.counter(core::counter::connections_active) == 1; }, 5s));
    const auto after = nlohmann::json::parse(test::http_get(broker.status_port(), "/status", code));
    EXPECT_EQ(after["listeners"][0]["certificates"][0]["serial"], new_serial);
    EXPECT_EQ(after["certificate_watch"]["last_pickup"]["ok"], true);
}

TEST(cert_renewal, reload_check_s_zero_leaves_changed_files_alone) {
    test::echo_backend backend;
    const auto port = test::unused_port();
    test::broker_harness broker(backend.port(), {{"tls", {{"reload_check_s", 0}}},
                                                 {"listeners", {{{"listen", "127.0.0.1:" + std::to_string(port)}}}}});
    const auto old_serial = test::serial_hex(broker.dir() / "server.crt");
    const auto renewed = test::make_self_signed(test::make_temp_dir("renewed0"), "renewed");
    test::replace_file(broker.dir() / "server.crt", test::read_file_text(renewed.cert));
    test::replace_file(broker.dir() / "server.key", test::read_file_text(renewed.key));
    // Nothing to wait for but time: three handshakes over more than two 1 s periods.
    for (int i = 0; i < 3; ++i) {
        EXPECT_EQ(test::served_serial(port), old_serial);
        test::wait_until([] { return false; }, 1100ms);
    }
    EXPECT_EQ(broker.total(core::counter::certificate_reloads_ok), 0u);
    EXPECT_EQ(broker.total(core::counter::certificate_reloads_failed), 0u);
}
