// The PROXY v1/v2 header reaches the backend with the client's address and TLS details.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "core/common/log.hpp"
#include "support/broker_harness.hpp"
#include "support/echo_backend.hpp"
#include "support/tls_client.hpp"
#include "support/wait.hpp"

using namespace tlsbroker;
using namespace std::chrono_literals;

using test::round_trip;

TEST(proxy_header, proxy_v1_header_carries_the_client_address) {
    test::echo_backend::options o;
    o.expect_proxy = true;
    test::echo_backend backend(o);
    test::broker_harness broker(backend.port(), {{"listeners", {{{"proxy_protocol", "v1"}}}}});
    test::tls_client c;
    ASSERT_TRUE(c.open(broker.port()));
    std::string got;
    ASSERT_TRUE(c.write_all("hello") && c.read_exact(5, got));
    const auto h = backend.proxy_headers();
    ASSERT_EQ(h.size(), 1u);
    EXPECT_EQ(h[0].version, core::proxy_version::v1);
    EXPECT_EQ(h[0].source.address().to_string(), "127.0.0.1");
    sockaddr_in local{};
    socklen_t len = sizeof local;
    ::getsockname(c.fd(), reinterpret_cast<sockaddr*>(&local), &len);
    EXPECT_EQ(h[0].source.port(), ntohs(local.sin_port));
    EXPECT_EQ(h[0].destination.port(), broker.port());
    EXPECT_EQ(backend.proxy_errors(), 0u);
}

TEST(proxy_header, proxy_v2_header_carries_tls_details) {
    test::echo_backend::options o;
    o.expect_proxy = true;
    test::echo_backend backend(o);
    test::broker_harness broker(backend.port(), {{"listeners", {{{"proxy_protocol", "v2"}}}}});
    ASSERT_TRUE(round_trip(broker.port(), "v2 payload", "site.example"));
    const auto h = backend.proxy_headers();
    ASSERT_EQ(h.size(), 1u);
    EXPECT_EQ(h[0].version, core::proxy_version::v2);
    EXPECT_TRUE(h[0].tls);
    EXPECT_EQ(h[0].tls_version, "TLSv1.3");
    EXPECT_FALSE(h[0].cipher.empty());
    EXPECT_EQ(h[0].sni, "site.example");
    EXPECT_EQ(h[0].destination.port(), broker.port());
}
