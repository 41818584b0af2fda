// TLS posture, checked with OpenSSL as the client: only TLS 1.2 and 1.3, only AEAD
// suites, no renegotiation, no compression.
#include <gtest/gtest.h>

#include <openssl/ssl.h>

#include "support/broker_harness.hpp"
#include "support/echo_backend.hpp"
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
    SSL_CTX_sess_set_new_cb(ctx, [](SSL*, SSL_SESSION*) { ++*counted; return 0; });
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

}  // namespace

TEST(tls_posture, tls_1_3_prefers_aes_128_gcm_and_sends_one_ticket) {
    test::echo_backend backend;
    test::broker_harness broker(backend.port());
    int tickets = -1;
    // OpenSSL clients offer AES-256 first; the server's order wins.
    EXPECT_EQ(tls13_round_trip(broker.port(), "TLS_AES_256_GCM_SHA384:TLS_AES_128_GCM_SHA256", tickets),
              "TLS_AES_128_GCM_SHA256");
    EXPECT_EQ(tickets, 1);
    EXPECT_EQ(tls13_round_trip(broker.port(), "TLS_CHACHA20_POLY1305_SHA256", tickets),
              "TLS_CHACHA20_POLY1305_SHA256");
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
