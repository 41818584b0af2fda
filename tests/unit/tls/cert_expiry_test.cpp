// The expiry-warning rule and the facts read from certificate and CRL files.
#include "core/tls/cert_expiry.hpp"

#include <gtest/gtest.h>

#include "support/test_certs.hpp"
#include "support/test_crl.hpp"

using namespace tlsbroker;
using core::expiry_warnings;
using core::threshold_reached;

namespace {
constexpr std::int64_t day = 86400;
}

TEST(cert_expiry, thresholds_are_30_14_7_1_days_then_expired) {
    EXPECT_EQ(threshold_reached(31 * day), 0);
    EXPECT_EQ(threshold_reached(30 * day), 30);
    EXPECT_EQ(threshold_reached(15 * day), 30);
    EXPECT_EQ(threshold_reached(14 * day), 14);
    EXPECT_EQ(threshold_reached(5 * day), 7);
    EXPECT_EQ(threshold_reached(day), 1);
    EXPECT_EQ(threshold_reached(60), 1);
    EXPECT_EQ(threshold_reached(0), -1);
    EXPECT_EQ(threshold_reached(-5), -1);
}

TEST(cert_expiry, one_warning_per_threshold_crossing_per_certificate) {
    expiry_warnings w;
    const std::int64_t now = 1'800'000'000;
    const std::int64_t not_after = now + 5 * day;     // first seen with 5 days left
    EXPECT_EQ(w.check("/c.crt", not_after, now), 7);  // once, at the tightest threshold reached
    EXPECT_EQ(w.check("/c.crt", not_after, now + 60), 0);
    EXPECT_EQ(w.check("/c.crt", not_after, now + 3 * day), 0);  // 2 days left: still the 7-day band
    EXPECT_EQ(w.check("/c.crt", not_after, now + 4 * day + 1), 1);
    EXPECT_EQ(w.check("/c.crt", not_after, now + 4 * day + 100), 0);
    EXPECT_EQ(w.check("/c.crt", not_after, not_after), -1);
    EXPECT_EQ(w.check("/c.crt", not_after, not_after + day), 0);
    // Another certificate has its own thresholds; a renewed file (new notAfter) starts afresh.
    EXPECT_EQ(w.check("/d.crt", now + 20 * day, now), 30);
    EXPECT_EQ(w.check("/c.crt", now + 90 * day, now), 0);
    EXPECT_EQ(w.check("/c.crt", now + 13 * day, now), 14);
    // Certificates no longer in use are forgotten.
    w.keep_only({{"/d.crt", now + 20 * day}});
    EXPECT_EQ(w.check("/c.crt", now + 13 * day, now), 14);
    EXPECT_EQ(w.check("/d.crt", now + 20 * day, now), 0);
}

TEST(cert_expiry, days_left_and_dates) {
    EXPECT_EQ(core::days_left(1000 + 5 * day - 1, 1000), 4u);
    EXPECT_EQ(core::days_left(1000 + 5 * day, 1000), 5u);
    EXPECT_EQ(core::days_left(500, 1000), 0u);
    EXPECT_EQ(core::format_utc(0), "1970-01-01T00:00:00Z");
    EXPECT_EQ(core::format_utc(1'796'738'400), "2026-12-08T14:00:00Z");
    EXPECT_EQ(core::format_utc(951'782'400), "2000-02-29T00:00:00Z");
}

TEST(cert_expiry, reads_the_leaf_and_the_crl) {
    const auto dir = test::make_temp_dir("cert-expiry");
    const auto c = test::make_self_signed(dir, "s", "s.example", test::key_type::ecdsa_p256, std::chrono::hours(48));
    const auto leaf = core::read_leaf(c.cert);
    ASSERT_TRUE(leaf.ok) << leaf.error;
    const auto now = core::unix_now();
    EXPECT_LE(leaf.not_after, now + 48 * 3600);
    EXPECT_GT(leaf.not_after, now + 48 * 3600 - 120);
    EXPECT_EQ(leaf.serial, test::serial_hex(c.cert));
    EXPECT_NE(leaf.subject.find("CN=s.example"), std::string::npos) << leaf.subject;

    test::write_file(dir / "half.crt", "-----BEGIN CERTIFICATE-----\nMIIB");
    const auto half = core::read_leaf(dir / "half.crt");
    EXPECT_FALSE(half.ok);
    EXPECT_NE(half.error.find("half.crt"), std::string::npos);
    EXPECT_FALSE(core::read_leaf(dir / "missing.crt").ok);

    const auto ca = test::make_ca(dir);
    const auto client = test::make_leaf(ca, dir, "client", "client", true);
    test::make_crl(ca.cert, ca.key, {client.cert}, dir / "ca.crl");
    const auto crl = core::read_crl(dir / "ca.crl");
    ASSERT_TRUE(crl.ok) << crl.error;
    EXPECT_EQ(crl.revoked, 1u);
    EXPECT_GT(crl.next_update, now + 29 * day);
}
