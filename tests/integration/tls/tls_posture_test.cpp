// TLS posture, checked with OpenSSL as the client: only TLS 1.2 and 1.3, only AEAD
// suites, no renegotiation, no compression; the key exchange groups offered (tls.groups and
// its default) and the OpenSSL version named by --version and /status. Runs against whichever
// OpenSSL 3 the build links (Debian 12's 3.0 on Linux); tests/windows/tls-posture.sh checks
// the Windows build (OpenSSL 3.5) from outside.
#include <gtest/gtest.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include <nlohmann/json.hpp>

#include "core/tls/tls_context.hpp"
#include "support/broker_harness.hpp"
#include "support/echo_backend.hpp"
#include "support/process.hpp"
#include "support/test_certs.hpp"
#include "support/tls_client.hpp"

using namespace tlsbroker;

namespace {

// Handshake with a client restricted to one version / cipher list; true when it succeeds.
bool handshake_with(std::uint16_t port, int version, const char* tls12_ciphers = nullptr) {
    test::tls_client c;
    if (!c.connect(port)) return false;
    SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_security_level(ctx, 0);  // let the client offer legacy protocols and suites
    SSL_CTX_set_min_proto_version(ctx, version);
    SSL_CTX_set_max_proto_version(ctx, version);
    if (tls12_ciphers != nullptr) SSL_CTX_set_cipher_list(ctx, tls12_ciphers);
    SSL* ssl = SSL_new(ctx);
    SSL_set_fd(ssl, c.fd());
    const bool ok = SSL_connect(ssl) == 1;
    SSL_free(ssl);
    SSL_CTX_free(ctx);
    return ok;
}

// A TLS 1.3 handshake and one round trip with a client offering `suites` in its order;
// returns the negotiated suite and counts the session tickets the client received.
std::string tls13_round_trip(std::uint16_t port, const char* suites, int& tickets) {
    test::tls_client c;
    if (!c.connect(port)) return {};
    SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
    SSL_CTX_set_ciphersuites(ctx, suites);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
    static thread_local int* counted = nullptr;
    counted = &tickets;
    tickets = 0;
    SSL_CTX_sess_set_new_cb(ctx, [](SSL*, SSL_SESSION*) {
        ++*counted;
        return 0;
    });
    SSL* ssl = SSL_new(ctx);
    SSL_set_fd(ssl, c.fd());
    c.set_timeout(std::chrono::milliseconds(5000));
    std::string suite;
    char b = 0;
    // Tickets are sent right after the handshake, before the echoed byte.
    if (SSL_connect(ssl) == 1 && SSL_write(ssl, "x", 1) == 1 && SSL_read(ssl, &b, 1) == 1 && b == 'x')
        suite = SSL_CIPHER_get_name(SSL_get_current_cipher(ssl));
    SSL_free(ssl);
    SSL_CTX_free(ctx);
    return suite;
}

// A handshake with a client offering `groups` (OpenSSL list syntax, the first gets the key
// share) at exactly `version`; the negotiated group's name ("" when the handshake fails).
std::string group_with(std::uint16_t port, const char* groups, int version = TLS1_3_VERSION) {
    test::tls_client c;
    if (!c.connect(port)) return {};
    SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_min_proto_version(ctx, version);
    SSL_CTX_set_max_proto_version(ctx, version);
    std::string name;
    if (SSL_CTX_set1_groups_list(ctx, groups) == 1) {
        SSL* ssl = SSL_new(ctx);
        SSL_set_fd(ssl, c.fd());
        c.set_timeout(std::chrono::milliseconds(5000));
        if (SSL_connect(ssl) == 1)
            if (const char* n = SSL_group_to_name(ssl, SSL_get_negotiated_group(ssl))) name = n;
        SSL_free(ssl);
    }
    ERR_clear_error();
    SSL_CTX_free(ctx);
    return name;
}

// Whether the OpenSSL linked into this test (and the broker) knows a group: a run-time
// feature test, the same one the broker's default makes.
bool library_knows_group(const char* group) {
    SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
    const bool known = SSL_CTX_set1_groups_list(ctx, group) == 1;
    ERR_clear_error();
    SSL_CTX_free(ctx);
    return known;
}

// OpenSSL names P-256 "secp256r1" and X25519 "x25519" in some versions: compare loosely.
std::string lower(std::string s) {
    for (auto& ch : s) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    return s;
}

}  // namespace

TEST(tls_posture, tls_1_3_prefers_aes_128_gcm_and_sends_one_ticket) {
    test::echo_backend backend;
    test::broker_harness broker(backend.port());
    int tickets = -1;
    // OpenSSL clients offer AES-256 first; the server's order wins.
    EXPECT_EQ(tls13_round_trip(broker.port(), "TLS_AES_256_GCM_SHA384:TLS_AES_128_GCM_SHA256", tickets),
              "TLS_AES_128_GCM_SHA256");
    EXPECT_EQ(tickets, 1);
    EXPECT_EQ(tls13_round_trip(broker.port(), "TLS_CHACHA20_POLY1305_SHA256", tickets), "TLS_CHACHA20_POLY1305_SHA256");
    EXPECT_EQ(tickets, 1);
}

TEST(tls_posture, only_tls_1_2_and_1_3) {
    test::echo_backend backend;
    test::broker_harness broker(backend.port());
    EXPECT_TRUE(handshake_with(broker.port(), TLS1_3_VERSION));
    EXPECT_TRUE(handshake_with(broker.port(), TLS1_2_VERSION));
    EXPECT_FALSE(handshake_with(broker.port(), TLS1_1_VERSION));
    EXPECT_FALSE(handshake_with(broker.port(), TLS1_VERSION));
}

TEST(tls_posture, only_aead_suites_in_tls_1_2) {
    test::echo_backend backend;
    test::broker_harness broker(backend.port());
    EXPECT_TRUE(handshake_with(broker.port(), TLS1_2_VERSION, "ECDHE-ECDSA-AES128-GCM-SHA256"));
    EXPECT_TRUE(handshake_with(broker.port(), TLS1_2_VERSION, "ECDHE-ECDSA-CHACHA20-POLY1305"));
    EXPECT_FALSE(handshake_with(broker.port(), TLS1_2_VERSION, "ECDHE-ECDSA-AES128-SHA"));
    EXPECT_FALSE(handshake_with(broker.port(), TLS1_2_VERSION, "ECDHE-ECDSA-AES256-SHA384"));
    EXPECT_FALSE(handshake_with(broker.port(), TLS1_2_VERSION, "AES128-SHA"));
}

TEST(tls_posture, no_renegotiation_and_no_compression) {
    test::echo_backend backend;
    test::broker_harness broker(backend.port());
    test::tls_client c;
    ASSERT_TRUE(c.connect(broker.port()));
    SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_max_proto_version(ctx, TLS1_2_VERSION);
    SSL* ssl = SSL_new(ctx);
    SSL_set_fd(ssl, c.fd());
    ASSERT_EQ(SSL_connect(ssl), 1);
    EXPECT_EQ(SSL_get_current_compression(ssl), nullptr);
    EXPECT_EQ(SSL_get_secure_renegotiation_support(ssl), 1);  // RFC 5746 indication only
    // The broker refuses to renegotiate: the client's renegotiation never completes (the
    // flag stays pending until a renegotiation handshake finishes).
    c.set_timeout(std::chrono::milliseconds(1000));
    ASSERT_EQ(SSL_renegotiate(ssl), 1);
    const char msg[] = "x";
    SSL_write(ssl, msg, 1);
    char buf[16];
    for (int i = 0; i < 2; ++i)
        if (SSL_read(ssl, buf, sizeof buf) <= 0) break;
    EXPECT_EQ(SSL_renegotiate_pending(ssl), 1);
    SSL_free(ssl);
    SSL_CTX_free(ctx);
}

TEST(tls_posture, default_groups_are_x25519_then_p256) {
    test::echo_backend backend;
    test::broker_harness broker(backend.port());
    // TLS 1.3: a client with only one of them gets it; a group outside the default fails.
    EXPECT_EQ(lower(group_with(broker.port(), "X25519")), "x25519");
    EXPECT_EQ(lower(group_with(broker.port(), "P-256")), "secp256r1");
    EXPECT_EQ(group_with(broker.port(), "P-384"), "");
    EXPECT_EQ(group_with(broker.port(), "X448"), "");
    // TLS 1.2 shows the server's order: a client preferring P-256 still gets X25519.
    EXPECT_EQ(lower(group_with(broker.port(), "P-256:X25519", TLS1_2_VERSION)), "x25519");
    // An OpenSSL 3.0 client's default offer (key share X25519) gets X25519, whatever the server has.
    EXPECT_EQ(lower(group_with(broker.port(), "X25519:P-256:X448:P-521:P-384")), "x25519");
}

TEST(tls_posture, hybrid_post_quantum_group_first_where_the_library_has_it) {
    const bool hybrid = library_knows_group("X25519MLKEM768");
    EXPECT_STREQ(core::default_tls_groups(), hybrid ? "X25519MLKEM768:X25519:P-256" : "X25519:P-256");
    if (!hybrid)
        GTEST_SKIP() << OpenSSL_version(OPENSSL_VERSION)
                     << " has no X25519MLKEM768 (OpenSSL 3.5+; tests/windows/tls-posture.sh checks it on Windows)";
    test::echo_backend backend;
    test::broker_harness broker(backend.port());
    EXPECT_EQ(group_with(broker.port(), "X25519MLKEM768:X25519"), "X25519MLKEM768");
    // One preference tuple: a client that prefers X25519 (its key share) and also offers the
    // hybrid group is served with its key share at once, not asked again (HelloRetryRequest).
    EXPECT_EQ(lower(group_with(broker.port(), "X25519:X25519MLKEM768")), "x25519");
}

TEST(tls_posture, configured_groups_replace_the_default) {
    test::echo_backend backend;
    test::broker_harness broker(backend.port(), {{"listeners", {{{"tls", {{"groups", "P-384:P-256"}}}}}}});
    EXPECT_EQ(group_with(broker.port(), "X25519"), "");
    EXPECT_EQ(lower(group_with(broker.port(), "P-256")), "secp256r1");
    EXPECT_EQ(lower(group_with(broker.port(), "P-256:P-384", TLS1_2_VERSION)), "secp384r1");
}

TEST(tls_posture, version_and_status_name_the_openssl_in_use) {
    const std::string openssl = OpenSSL_version(OPENSSL_VERSION);
    const auto dir = test::make_temp_dir("posture-version");
    const auto [code, out] = test::run_to_completion({"--version"}, dir);
    EXPECT_EQ(code, 0);
    EXPECT_NE(out.find("\n" + openssl + "\n"), std::string::npos) << out;
    EXPECT_NE(out.find(std::string("default tls.groups: ") + core::default_tls_groups()), std::string::npos) << out;

    test::echo_backend backend;
    test::broker_harness broker(backend.port());
    int status = 0;
    const auto body = test::http_get(broker.status_port(), "/status", status);
    ASSERT_EQ(status, 200) << body;
    const auto j = nlohmann::json::parse(body);
    EXPECT_EQ(j.value("openssl", ""), openssl);
    EXPECT_EQ(j.value("tls_groups_default", ""), core::default_tls_groups());
}
