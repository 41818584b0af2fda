// Who may drive the status endpoint: what only a browser sends is refused.
#include "core/status/status_guard.hpp"

#include <gtest/gtest.h>

using tlsbroker::core::check_status_request;
using tlsbroker::core::status_source_key;
namespace ip = boost::asio::ip;

TEST(status_guard, an_origin_header_is_refused_whatever_it_says) {
    for (const char* o : {"https://evil.example", "null", "http://127.0.0.1:9100"}) {
        const auto r = check_status_request(std::string_view(o), std::string_view("127.0.0.1:9100"));
        ASSERT_TRUE(r) << o;
        EXPECT_EQ(r->status, 403u);
    }
}

TEST(status_guard, host_must_be_an_address_or_localhost) {
    const auto host = [](const char* h) {
        const auto r = check_status_request(std::nullopt, std::string_view(h));
        return r ? r->status : 200u;
    };
    EXPECT_EQ(host("127.0.0.1:9100"), 200u);
    EXPECT_EQ(host("127.0.0.1"), 200u);
    EXPECT_EQ(host("10.1.2.3:9100"), 200u);
    EXPECT_EQ(host("[::1]:9100"), 200u);
    EXPECT_EQ(host("[fe80::1]"), 200u);
    EXPECT_EQ(host("localhost:9100"), 200u);
    EXPECT_EQ(host("LOCALHOST"), 200u);
    EXPECT_EQ(host("evil.example:9100"), 421u);
    EXPECT_EQ(host("localhost.evil.example"), 421u);
    EXPECT_EQ(host("127.0.0.1.evil.example"), 421u);
    EXPECT_EQ(host(""), 421u);
    EXPECT_FALSE(check_status_request(std::nullopt, std::nullopt)) << "no Host (HTTP/1.0): no browser sends that";
}

TEST(status_guard, every_loopback_address_is_one_source) {
    EXPECT_EQ(status_source_key(ip::make_address("127.0.0.1")), "loopback");
    EXPECT_EQ(status_source_key(ip::make_address("127.9.9.9")), "loopback");
    EXPECT_EQ(status_source_key(ip::make_address("::1")), "loopback");
    EXPECT_EQ(status_source_key(ip::make_address("::ffff:127.0.0.2")), "loopback");
    EXPECT_EQ(status_source_key(ip::make_address("10.0.0.5")), "10.0.0.5");
    EXPECT_NE(status_source_key(ip::make_address("10.0.0.5")), status_source_key(ip::make_address("10.0.0.6")));
}

TEST(status_guard, names_in_allowed_hosts_pass_with_or_without_a_port) {
    const std::vector<std::string> allowed = {"broker01", "metrics.example:8417"};
    const auto host = [&](const char* h) {
        const auto r = check_status_request(std::nullopt, std::string_view(h), allowed);
        return r ? r->status : 200u;
    };
    EXPECT_EQ(host("broker01"), 200u);
    EXPECT_EQ(host("broker01:8417"), 200u);
    EXPECT_EQ(host("Broker01:1"), 200u);
    EXPECT_EQ(host("metrics.example:8417"), 200u);
    EXPECT_EQ(host("METRICS.example:8417"), 200u);
    EXPECT_EQ(host("metrics.example"), 421u);
    EXPECT_EQ(host("metrics.example:84170"), 421u);
    EXPECT_EQ(host("broker011"), 421u);
    EXPECT_EQ(host("broker0"), 421u);
    EXPECT_EQ(host("evil.example"), 421u);
    EXPECT_EQ(host("127.0.0.1:8417"), 200u);
    // The list does not let Origin through.
    EXPECT_EQ(check_status_request(std::string_view("http://broker01"), std::string_view("broker01"), allowed)->status,
              403u);
}
