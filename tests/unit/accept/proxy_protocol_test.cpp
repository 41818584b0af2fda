#include "core/accept/proxy_protocol.hpp"

#include <gtest/gtest.h>

using namespace tlsbroker::core;
namespace ip = boost::asio::ip;

namespace {
proxy_info sample_v4() {
    proxy_info p;
    p.source = {ip::make_address("192.0.2.10"), 51234};
    p.destination = {ip::make_address("198.51.100.1"), 8443};
    p.tls_version = "TLSv1.3";
    p.cipher = "TLS_AES_128_GCM_SHA256";
    p.sni = "site.example";
    p.client_cn = "client-7";
    p.client_cert = true;
    p.client_verified = true;
    return p;
}
}  // namespace

TEST(proxy_protocol, v1_tcp4_exact_text) {
    EXPECT_EQ(build_proxy_v1(sample_v4()), "PROXY TCP4 192.0.2.10 198.51.100.1 51234 8443\r\n");
}

TEST(proxy_protocol, v1_tcp6_and_mixed_families) {
    proxy_info p;
    p.source = {ip::make_address("2001:db8::1"), 1};
    p.destination = {ip::make_address("::1"), 2};
    EXPECT_EQ(build_proxy_v1(p), "PROXY TCP6 2001:db8::1 ::1 1 2\r\n");
    p.destination = {ip::make_address("127.0.0.1"), 2};
    EXPECT_EQ(build_proxy_v1(p), "PROXY UNKNOWN\r\n");
}

TEST(proxy_protocol, v1_round_trip) {
    std::string err;
    const auto r = parse_proxy_header(build_proxy_v1(sample_v4()) + "payload", err);
    ASSERT_TRUE(r) << err;
    EXPECT_EQ(r->version, proxy_version::v1);
    EXPECT_EQ(r->source, sample_v4().source);
    EXPECT_EQ(r->destination, sample_v4().destination);
    EXPECT_EQ(r->consumed, build_proxy_v1(sample_v4()).size());
}

TEST(proxy_protocol, v2_round_trip_with_tls_tlvs) {
    const auto h = build_proxy_v2(sample_v4());
    EXPECT_EQ(h.substr(0, 12), std::string("\r\n\r\n\0\r\nQUIT\n", 12));
    EXPECT_EQ(static_cast<unsigned char>(h[12]), 0x21);
    EXPECT_EQ(static_cast<unsigned char>(h[13]), 0x11);
    std::string err;
    const auto r = parse_proxy_header(h + "rest", err);
    ASSERT_TRUE(r) << err;
    EXPECT_EQ(r->version, proxy_version::v2);
    EXPECT_EQ(r->consumed, h.size());
    EXPECT_EQ(r->source, sample_v4().source);
    EXPECT_EQ(r->destination, sample_v4().destination);
    EXPECT_TRUE(r->tls);
    EXPECT_EQ(r->tls_version, "TLSv1.3");
    EXPECT_EQ(r->cipher, "TLS_AES_128_GCM_SHA256");
    EXPECT_EQ(r->sni, "site.example");
    EXPECT_EQ(r->client_cn, "client-7");
    EXPECT_TRUE(r->client_cert);
    EXPECT_TRUE(r->client_verified);
}

TEST(proxy_protocol, v2_ipv6) {
    proxy_info p;
    p.source = {ip::make_address("2001:db8::5"), 4000};
    p.destination = {ip::make_address("2001:db8::6"), 443};
    std::string err;
    const auto r = parse_proxy_header(build_proxy_v2(p), err);
    ASSERT_TRUE(r) << err;
    EXPECT_EQ(r->source, p.source);
    EXPECT_EQ(r->destination, p.destination);
    EXPECT_FALSE(r->client_cert);
}

TEST(proxy_protocol, incomplete_input_asks_for_more_and_garbage_is_an_error) {
    const auto h = build_proxy_v2(sample_v4());
    std::string err;
    EXPECT_FALSE(parse_proxy_header(h.substr(0, h.size() - 1), err));
    EXPECT_TRUE(err.empty());
    EXPECT_FALSE(parse_proxy_header("PROXY TCP4 1.2.3", err));
    EXPECT_TRUE(err.empty());
    EXPECT_FALSE(parse_proxy_header("GET / HTTP/1.1\r\n", err));
    EXPECT_FALSE(err.empty());
    EXPECT_FALSE(parse_proxy_header("PROXY TCP4 1.2.3.4 5.6.7.8 99999 1\r\n", err));
    EXPECT_FALSE(err.empty());
    EXPECT_FALSE(parse_proxy_header("PROXY TCP4 ::1 5.6.7.8 1 1\r\n", err));
    EXPECT_FALSE(err.empty());
}

TEST(proxy_protocol, long_tlv_values_are_bounded) {
    auto p = sample_v4();
    p.sni = std::string(1000, 'a');
    std::string err;
    const auto r = parse_proxy_header(build_proxy_v2(p), err);
    ASSERT_TRUE(r) << err;
    EXPECT_EQ(r->sni.size(), 255u);
}
