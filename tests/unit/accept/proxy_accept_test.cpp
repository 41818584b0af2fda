// The accept_proxy policy on the first bytes of a connection: trusted or not, header or not.
#include "core/accept/proxy_accept.hpp"

#include <gtest/gtest.h>

#include "config/cidr.hpp"

using namespace tlsbroker;
using kind = core::proxy_verdict::kind;

namespace {

config::listener_config with(const std::string& mode, std::initializer_list<const char*> nets) {
    config::listener_config l;
    EXPECT_TRUE(config::from_string(mode, l.accept_proxy)) << mode;
    for (const char* n : nets) {
        config::cidr c;
        EXPECT_EQ(config::parse_cidr(n, c), "") << n;
        l.trusted_proxies.push_back(c);
    }
    return l;
}

boost::asio::ip::address ip(const char* s) { return boost::asio::ip::make_address(s); }

std::string v2_local() { return std::string("\r\n\r\n\0\r\nQUIT\n\x20\x00\x00\x00", 16); }

std::string v2_proxy(const char* src) {
    core::proxy_info p;
    p.source = {ip(src), 40000};
    p.destination = {ip(p.source.address().is_v6() ? "::1" : "127.0.0.1"), 443};
    return core::build_proxy_v2(p);
}

}  // namespace

TEST(proxy_accept, trusted_networks) {
    const auto l = with("v2", {"10.0.0.0/8", "192.0.2.7", "fd00::/8", "172.16.0.0/12"});
    EXPECT_TRUE(core::trusted_proxy(l, ip("10.200.3.4")));
    EXPECT_FALSE(core::trusted_proxy(l, ip("11.0.0.1")));
    EXPECT_TRUE(core::trusted_proxy(l, ip("192.0.2.7")));
    EXPECT_FALSE(core::trusted_proxy(l, ip("192.0.2.8")));
    EXPECT_TRUE(core::trusted_proxy(l, ip("fd12::1")));
    EXPECT_FALSE(core::trusted_proxy(l, ip("fe80::1")));
    EXPECT_TRUE(core::trusted_proxy(l, ip("172.31.255.255")));
    EXPECT_FALSE(core::trusted_proxy(l, ip("172.32.0.0")));
    EXPECT_TRUE(core::trusted_proxy(l, ip("::ffff:10.1.2.3")));  // v4-mapped matches as IPv4
    EXPECT_TRUE(core::trusted_proxy(with("any", {"0.0.0.0/0"}), ip("203.0.113.9")));
    EXPECT_FALSE(core::trusted_proxy(with("any", {"0.0.0.0/0"}), ip("::1")));
}

TEST(proxy_accept, trusted_source_header_exactly_consumed) {
    const auto l = with("any", {"127.0.0.0/8"});
    const std::string v1 = "PROXY TCP4 198.51.100.7 127.0.0.1 5555 443\r\n";
    const std::string hello = "\x16\x03\x01\x02\x00";
    auto v = core::judge_proxy_bytes(v1 + hello, l, true, false);
    ASSERT_EQ(v.outcome, kind::header) << v.why;
    EXPECT_EQ(v.header.consumed, v1.size());
    EXPECT_EQ(v.header.source.address().to_string(), "198.51.100.7");
    // Byte by byte: undecided until the line ends.
    for (std::size_t i = 1; i < v1.size(); ++i)
        EXPECT_EQ(core::judge_proxy_bytes(v1.substr(0, i), l, true, false).outcome, kind::more) << i;
    const auto v2 = v2_proxy("2001:db8::5");
    for (std::size_t i = 1; i < v2.size(); ++i)
        EXPECT_EQ(core::judge_proxy_bytes(v2.substr(0, i), l, true, false).outcome, kind::more) << i;
    v = core::judge_proxy_bytes(v2 + hello, l, true, false);
    ASSERT_EQ(v.outcome, kind::header) << v.why;
    EXPECT_EQ(v.header.consumed, v2.size());
    EXPECT_EQ(v.header.source.address().to_string(), "2001:db8::5");
    v = core::judge_proxy_bytes(v2_local(), l, true, false);
    ASSERT_EQ(v.outcome, kind::header) << v.why;
    EXPECT_TRUE(v.header.local);
}

TEST(proxy_accept, refusals_say_why_and_what_to_count) {
    const auto l = with("v2", {"127.0.0.0/8"});
    const auto v2 = v2_proxy("198.51.100.7");
    auto v = core::judge_proxy_bytes(v2, l, false, false);  // untrusted source
    EXPECT_EQ(v.outcome, kind::refused);
    EXPECT_EQ(v.refusal, core::counter::rejected_proxy_untrusted);
    v = core::judge_proxy_bytes("PROXY ", l, false, false);
    EXPECT_EQ(v.refusal, core::counter::rejected_proxy_untrusted);
    v = core::judge_proxy_bytes("\x16\x03\x01", l, true, false);  // a ClientHello, no header
    EXPECT_EQ(v.outcome, kind::refused);
    EXPECT_EQ(v.refusal, core::counter::rejected_proxy_missing);
    v = core::judge_proxy_bytes(v2.substr(0, 20), l, true, true);  // truncated
    EXPECT_EQ(v.refusal, core::counter::rejected_proxy_invalid);
    EXPECT_NE(v.why.find("truncated"), std::string::npos) << v.why;
    v = core::judge_proxy_bytes("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\n", l, true, false);  // v1 where v2 is asked
    EXPECT_EQ(v.refusal, core::counter::rejected_proxy_invalid);
    v = core::judge_proxy_bytes("PROXY garbage here\r\n", with("any", {"127.0.0.1"}), true, false);
    EXPECT_EQ(v.refusal, core::counter::rejected_proxy_invalid);
    v = core::judge_proxy_bytes("PROXY " + std::string(200, 'x'), with("v1", {"127.0.0.1"}), true, false);
    EXPECT_EQ(v.refusal, core::counter::rejected_proxy_invalid);
}

TEST(proxy_accept, direct_clients_keep_their_stream) {
    const auto l = with("any", {"10.0.0.0/8"});
    EXPECT_EQ(core::judge_proxy_bytes("\x16\x03\x01\x00", l, false, false).outcome, kind::no_header);
    EXPECT_EQ(core::judge_proxy_bytes("GET / HTTP/1.1\r\n", l, false, false).outcome, kind::no_header);
    EXPECT_EQ(core::judge_proxy_bytes("PRO", l, false, false).outcome, kind::more);
    EXPECT_EQ(core::judge_proxy_bytes("PRO", l, false, true).outcome, kind::no_header);
    EXPECT_EQ(core::judge_proxy_bytes("PROBE", l, false, false).outcome, kind::no_header);
}
