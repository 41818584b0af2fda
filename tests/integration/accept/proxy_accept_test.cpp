// accept_proxy: a PROXY header from a trusted balancer names the client everywhere (the
// backend's PROXY header, per-source limits, counters); every other case is refused and counted.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "core/accept/proxy_protocol.hpp"
#include "support/broker_harness.hpp"
#include "support/echo_backend.hpp"
#include "support/tls_client.hpp"
#include "support/wait.hpp"

using namespace tlsbroker;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

// Loopback is the balancer here; the backend gets a PROXY v2 header to show what arrived.
json accepting(const std::string& mode, json trusted = json::array({"127.0.0.0/8"}), json extra = json::object()) {
    json l = {{"accept_proxy", mode}, {"trusted_proxies", trusted}, {"proxy_protocol", "v2"}};
    for (auto it = extra.begin(); it != extra.end(); ++it) l[it.key()] = *it;
    return {{"listeners", json::array({l})}};
}

test::echo_backend::options reading_proxy() {
    test::echo_backend::options o;
    o.expect_proxy = true;
    return o;
}

std::string v2_header(const char* src, std::uint16_t port, bool local = false) {
    core::proxy_info p;
    p.source = {boost::asio::ip::make_address(src), port};
    p.destination = {boost::asio::ip::make_address(p.source.address().is_v6() ? "2001:db8::1" : "192.0.2.1"), 443};
    auto h = core::build_proxy_v2(p);
    if (local) h[12] = 0x20;  // version 2, command LOCAL
    return h;
}

// Header and ClientHello in one segment (MSG_MORE holds the header back until the
// handshake's first flight joins it): the broker must take only the header's bytes.
bool open_with_header(test::tls_client& c, std::uint16_t port, const std::string& header) {
    if (!c.connect(port)) return false;
    if (::send(c.fd(), header.data(), header.size(), MSG_MORE | MSG_NOSIGNAL) != static_cast<ssize_t>(header.size()))
        return false;
    return c.handshake();
}

bool echoes(test::tls_client& c, const std::string& msg) {
    std::string got;
    return c.write_all(msg) && c.read_exact(msg.size(), got) && got == msg;
}

}  // namespace

TEST(proxy_accept, v1_from_a_trusted_source_names_the_client) {
    test::echo_backend backend(reading_proxy());
    test::broker_harness broker(backend.port(), accepting("v1"));
    test::tls_client c;
    ASSERT_TRUE(open_with_header(c, broker.port(), "PROXY TCP4 198.51.100.7 192.0.2.1 5555 443\r\n")) << c.error();
    ASSERT_TRUE(echoes(c, "hello via v1"));
    const auto h = backend.proxy_headers();
    ASSERT_EQ(h.size(), 1u);
    EXPECT_EQ(h[0].source.address().to_string(), "198.51.100.7");
    EXPECT_EQ(h[0].source.port(), 5555);
    EXPECT_EQ(h[0].destination.address().to_string(), "192.0.2.1");
    EXPECT_EQ(broker.counter(core::counter::proxy_headers_ok), 1u);
    EXPECT_EQ(broker.counter(core::counter::handshakes_ok), 1u);
}

TEST(proxy_accept, v2_from_a_trusted_source_names_an_ipv6_client) {
    test::echo_backend backend(reading_proxy());
    test::broker_harness broker(backend.port(), accepting("v2"));
    test::tls_client c;
    ASSERT_TRUE(open_with_header(c, broker.port(), v2_header("2001:db8::77", 40001))) << c.error();
    ASSERT_TRUE(echoes(c, std::string(20000, 'x')));
    const auto h = backend.proxy_headers();
    ASSERT_EQ(h.size(), 1u);
    EXPECT_EQ(h[0].source.address().to_string(), "2001:db8::77");
    EXPECT_EQ(h[0].source.port(), 40001);
    EXPECT_TRUE(h[0].tls);
    EXPECT_EQ(broker.counter(core::counter::proxy_headers_ok), 1u);
}

TEST(proxy_accept, v2_local_keeps_the_proxy_address) {
    test::echo_backend backend(reading_proxy());
    test::broker_harness broker(backend.port(), accepting("any"));
    test::tls_client c;
    ASSERT_TRUE(open_with_header(c, broker.port(), v2_header("198.51.100.9", 1, true))) << c.error();
    ASSERT_TRUE(echoes(c, "health"));
    const auto h = backend.proxy_headers();
    ASSERT_EQ(h.size(), 1u);
    EXPECT_EQ(h[0].source.address().to_string(), "127.0.0.1");
    EXPECT_EQ(broker.counter(core::counter::proxy_headers_local), 1u);
}

TEST(proxy_accept, header_from_an_untrusted_source_is_refused_direct_clients_served) {
    test::echo_backend backend(reading_proxy());
    test::broker_harness broker(backend.port(), accepting("any", json::array({"10.0.0.0/8", "fd00::/8"})));
    test::tls_client c;
    ASSERT_TRUE(c.connect(broker.port()));
    ASSERT_TRUE(c.write_raw("PROXY TCP4 198.51.100.7 192.0.2.1 5555 443\r\n"));
    EXPECT_TRUE(c.wait_closed(5s));
    EXPECT_TRUE(test::wait_until([&] { return broker.counter(core::counter::rejected_proxy_untrusted) == 1; }, 5s));
    // A direct client from the same (untrusted) address sends TLS at once: served as itself.
    test::tls_client d;
    ASSERT_TRUE(d.open(broker.port())) << d.error();
    ASSERT_TRUE(echoes(d, "direct"));
    const auto h = backend.proxy_headers();
    ASSERT_EQ(h.size(), 1u);
    EXPECT_EQ(h[0].source.address().to_string(), "127.0.0.1");
    EXPECT_EQ(backend.connections(), 1u);
    int status = 0;
    const auto metrics = test::http_get(broker.status_port(), "/metrics", status);
    EXPECT_EQ(status, 200);
    EXPECT_NE(metrics.find("reason=\"proxy_untrusted\"} 1"), std::string::npos) << metrics;
    const auto st = json::parse(test::http_get(broker.status_port(), "/status", status));
    EXPECT_EQ(st["listeners"][0]["counters"]["rejected_proxy_untrusted"], 1) << st.dump();
}

TEST(proxy_accept, missing_header_from_a_trusted_source_is_refused) {
    test::echo_backend backend(reading_proxy());
    test::broker_harness broker(backend.port(), accepting("v2"));
    test::tls_client c;
    ASSERT_TRUE(c.connect(broker.port()));
    EXPECT_FALSE(c.handshake());
    EXPECT_TRUE(test::wait_until([&] { return broker.counter(core::counter::rejected_proxy_missing) == 1; }, 5s));
    EXPECT_EQ(broker.counter(core::counter::handshakes_failed), 0u);
    EXPECT_EQ(broker.counter(core::counter::handshakes_in_progress), 0u);
    EXPECT_TRUE(test::wait_until([&] { return broker.counter(core::counter::connections_active) == 0; }, 5s));
    EXPECT_EQ(backend.connections(), 0u);
}

TEST(proxy_accept, truncated_header_is_refused) {
    test::echo_backend backend(reading_proxy());
    test::broker_harness broker(backend.port(), accepting("v2"));
    const auto h = v2_header("198.51.100.7", 5555);
    test::tls_client c;
    ASSERT_TRUE(c.connect(broker.port()));
    ASSERT_TRUE(c.write_raw(h.substr(0, 20)));
    ::shutdown(c.fd(), SHUT_WR);
    EXPECT_TRUE(c.wait_closed(5s));
    EXPECT_TRUE(test::wait_until([&] { return broker.counter(core::counter::rejected_proxy_invalid) == 1; }, 5s));
    EXPECT_EQ(backend.connections(), 0u);
}

TEST(proxy_accept, stalled_header_ends_at_handshake_ms) {
    test::echo_backend backend(reading_proxy());
    test::broker_harness broker(backend.port(),
                                accepting("v1", json::array({"127.0.0.1"}), {{"timeouts", {{"handshake_ms", 300}}}}));
    test::tls_client c;
    ASSERT_TRUE(c.connect(broker.port()));
    ASSERT_TRUE(c.write_raw("PROXY TCP4 198.51"));
    EXPECT_TRUE(c.wait_closed(5s));
    EXPECT_TRUE(test::wait_until([&] { return broker.counter(core::counter::rejected_proxy_timeout) == 1; }, 5s));
    EXPECT_EQ(broker.counter(core::counter::handshakes_timeout), 0u);
}

TEST(proxy_accept, garbage_is_refused) {
    test::echo_backend backend(reading_proxy());
    test::broker_harness broker(backend.port(), accepting("any"));
    auto bad_v2 = v2_header("198.51.100.7", 5555);
    bad_v2[12] = 0x31;  // version 3
    for (const std::string& junk :
         {std::string("PROXY TCP4 not an address\r\n"), bad_v2, std::string("PROXY ") + std::string(150, 'z'),
          std::string("PROXY TCP4 198.51.100.7 192.0.2.1 5555 443\r\nnot TLS")}) {
        test::tls_client c;
        ASSERT_TRUE(c.connect(broker.port()));
        ASSERT_TRUE(c.write_raw(junk));
        EXPECT_TRUE(c.wait_closed(5s)) << junk;
    }
    // The last one had a good header: its junk reached TLS, which failed the handshake.
    EXPECT_TRUE(test::wait_until([&] { return broker.counter(core::counter::rejected_proxy_invalid) == 3; }, 5s));
    EXPECT_TRUE(test::wait_until([&] { return broker.counter(core::counter::handshakes_failed) == 1; }, 5s));
    EXPECT_EQ(broker.counter(core::counter::proxy_headers_ok), 1u);
    EXPECT_EQ(backend.connections(), 0u);
}

TEST(proxy_accept, per_source_limit_counts_the_real_client) {
    test::echo_backend backend(reading_proxy());
    test::broker_harness broker(backend.port(),
                                accepting("v2", json::array({"127.0.0.1"}), {{"max_connections_per_source", 1}}));
    test::tls_client a, b, c;
    ASSERT_TRUE(open_with_header(a, broker.port(), v2_header("198.51.100.7", 1000)));
    ASSERT_TRUE(echoes(a, "a"));
    // Same client behind the balancer: over its limit, though the TCP peer is the same for all.
    ASSERT_TRUE(b.connect(broker.port()));
    ASSERT_TRUE(b.write_raw(v2_header("198.51.100.7", 1001)));
    EXPECT_TRUE(b.wait_closed(5s));
    EXPECT_TRUE(test::wait_until([&] { return broker.counter(core::counter::rejected_source_limit) == 1; }, 5s));
    // Another client behind the same balancer is served.
    ASSERT_TRUE(open_with_header(c, broker.port(), v2_header("198.51.100.8", 1002)));
    ASSERT_TRUE(echoes(c, "c"));
    EXPECT_EQ(broker.counter(core::counter::proxy_headers_ok), 3u);
}
