// A client certificate whose name could mislead (here a control character in the CN) is
// served, but its name is refused: counted (client_identity_refused) and never logged as a name.
#include <gtest/gtest.h>

#include "support/broker_harness.hpp"
#include "support/echo_backend.hpp"
#include "support/test_certs.hpp"
#include "support/tls_client.hpp"
#include "support/wait.hpp"

using namespace tlsbroker;
using namespace std::chrono_literals;

TEST(client_identity, a_refused_certificate_name_is_counted) {
    const auto dir = test::make_temp_dir("identity");
    const auto ca = test::make_ca(dir, "ca");
    const auto good = test::make_leaf(ca, dir, "good", "client-good", true);
    const auto odd = test::make_leaf(ca, dir, "odd", "client\x01odd", true);
    test::echo_backend backend;
    test::broker_harness broker(
        backend.port(), {{"listeners", {{{"tls", {{"client_ca", ca.cert.string()}, {"verify_client", "required"}}}}}}});
    const auto serve = [&](const test::cert_files& who) {
        test::tls_client c;
        c.use_certificate(who.cert.string(), who.key.string());
        std::string got;
        return c.connect(broker.port()) && c.handshake() && c.write_all("id?") && c.read_exact(3, got);
    };
    ASSERT_TRUE(serve(good));
    EXPECT_EQ(broker.total(core::counter::client_identity_refused), 0u);
    ASSERT_TRUE(serve(odd));
    EXPECT_TRUE(test::wait_until([&] { return broker.total(core::counter::client_identity_refused) == 1; }, 5s));
}
