// SNI picks the certificate by server name; mutual TLS accepts a valid client and rejects
// an unknown or revoked one; the session cache lets reconnecting clients resume.
#include <gtest/gtest.h>

#include "support/broker_harness.hpp"
#include "support/echo_backend.hpp"
#include "support/test_certs.hpp"
#include "support/test_crl.hpp"
#include "support/tls_client.hpp"
#include "support/wait.hpp"

using namespace tlsbroker;
using namespace std::chrono_literals;

namespace {

struct features_pki {
    std::filesystem::path dir = test::make_temp_dir("pki");
    test::ca_files ca = test::make_ca(dir, "ca");
    test::cert_files a = test::make_leaf(ca, dir, "a", "a.example", false, {"a.example"});
    test::cert_files wild = test::make_leaf(ca, dir, "wild", "wild.b.example", false, {"*.b.example"});
    test::cert_files good_client = test::make_leaf(ca, dir, "client-good", "client-good", true);
    test::cert_files revoked_client = test::make_leaf(ca, dir, "client-revoked", "client-revoked", true);
    test::ca_files other_ca = test::make_ca(dir, "other-ca");
    test::cert_files stranger = test::make_leaf(other_ca, dir, "stranger", "stranger", true);
};

nlohmann::json sni_patch(const features_pki& p, bool refuse) {
    return {
        {"listeners",
         {{{"tls",
            {{"sni",
              {{{"server_names", {"a.example"}}, {"certificate", p.a.cert.string()}, {"private_key", p.a.key.string()}},
               {{"server_names", {"*.b.example"}},
                {"certificate", p.wild.cert.string()},
                {"private_key", p.wild.key.string()}}}},
             {"refuse_unknown_sni", refuse}}}}}}};
}

std::string served_cn(std::uint16_t port, const char* sni) {
    test::tls_client c;
    if (!c.connect(port) || !c.handshake(sni)) return "(handshake failed)";
    return c.peer_common_name();
}

}  // namespace

TEST(tls_features, sni_picks_exact_then_wildcard_then_default) {
    features_pki p;
    test::echo_backend backend;
    test::broker_harness broker(backend.port(), sni_patch(p, false));
    EXPECT_EQ(served_cn(broker.port(), "a.example"), "a.example");
    EXPECT_EQ(served_cn(broker.port(), "x.b.example"), "wild.b.example");
    EXPECT_EQ(served_cn(broker.port(), "A.EXAMPLE"), "a.example");
    EXPECT_EQ(served_cn(broker.port(), "deep.x.b.example"), "localhost");  // one label only
    EXPECT_EQ(served_cn(broker.port(), "unknown.example"), "localhost");   // the default
}

TEST(tls_features, unknown_server_names_can_be_refused) {
    features_pki p;
    test::echo_backend backend;
    test::broker_harness broker(backend.port(), sni_patch(p, true));
    EXPECT_EQ(served_cn(broker.port(), "a.example"), "a.example");
    EXPECT_EQ(served_cn(broker.port(), "unknown.example"), "(handshake failed)");
    EXPECT_TRUE(test::wait_until([&] { return broker.counter(core::counter::handshakes_failed) == 1; }, 5s));
}

TEST(tls_features, a_client_without_a_server_name_is_refused_only_when_configured) {
    features_pki p;
    test::echo_backend backend;
    // refuse_unknown_sni alone lets a client without SNI through, to the default certificate.
    test::broker_harness lenient(backend.port(), sni_patch(p, true));
    EXPECT_EQ(served_cn(lenient.port(), nullptr), "localhost");
    auto patch = sni_patch(p, true);
    patch["listeners"][0]["tls"]["refuse_missing_sni"] = true;
    test::broker_harness strict(backend.port(), patch);
    EXPECT_EQ(served_cn(strict.port(), nullptr), "(handshake failed)");
    EXPECT_EQ(served_cn(strict.port(), "a.example"), "a.example");
    EXPECT_TRUE(test::wait_until([&] { return strict.counter(core::counter::handshakes_failed) == 1; }, 5s));
}

TEST(tls_features, mutual_tls_accepts_valid_and_rejects_unknown_and_revoked_clients) {
    features_pki p;
    test::make_crl(p.ca.cert, p.ca.key, {p.revoked_client.cert}, p.dir / "ca.crl");
    test::echo_backend backend;
    test::broker_harness broker(backend.port(), {{"listeners",
                                                  {{{"tls",
                                                     {{"client_ca", p.ca.cert.string()},
                                                      {"verify_client", "required"},
                                                      {"crl", (p.dir / "ca.crl").string()}}}}}}});
    const auto attempt = [&](const test::cert_files* who) {
        test::tls_client c;
        c.set_timeout(5s);
        if (who != nullptr) c.use_certificate(who->cert.string(), who->key.string());
        std::string got;
        // TLS 1.3 reports a rejected client certificate on the first read, not in SSL_connect.
        return c.connect(broker.port()) && c.handshake() && c.write_all("id?") && c.read_exact(3, got);
    };
    EXPECT_TRUE(attempt(&p.good_client));
    EXPECT_FALSE(attempt(&p.revoked_client));
    EXPECT_FALSE(attempt(&p.stranger));
    EXPECT_FALSE(attempt(nullptr));
    EXPECT_TRUE(test::wait_until([&] { return broker.counter(core::counter::handshakes_failed) == 3; }, 5s));
    EXPECT_EQ(backend.connections(), 1u);
}

TEST(tls_features, reconnecting_clients_resume_their_session) {
    test::echo_backend backend;
    test::broker_harness broker(backend.port());
    SSL_SESSION* saved = nullptr;
    {
        test::tls_client c;
        std::string got;
        ASSERT_TRUE(c.open(broker.port()) && c.write_all("a") && c.read_exact(1, got));
        // TLS 1.3 tickets are post-handshake messages: wait until one has been processed.
        ASSERT_TRUE(test::wait_until(
            [&] {
                SSL_SESSION* s = c.session();
                const bool ok = s != nullptr && SSL_SESSION_is_resumable(s) == 1;
                SSL_SESSION_free(s);
                std::string more;
                if (!ok) c.write_all("b") && c.read_exact(1, more);
                return ok;
            },
            5s));
        saved = c.session();
        EXPECT_FALSE(c.session_reused());
        c.shutdown_write();  // a clean close keeps the session resumable
    }
    ASSERT_NE(saved, nullptr);
    EXPECT_EQ(SSL_SESSION_is_resumable(saved), 1);
    test::tls_client again;
    ASSERT_TRUE(again.connect(broker.port()));
    again.set_session(saved);
    ASSERT_TRUE(again.handshake());
    EXPECT_TRUE(again.session_reused());
    SSL_SESSION_free(saved);
}
