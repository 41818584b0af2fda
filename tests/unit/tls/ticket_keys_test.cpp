// Session ticket keys rotate: a ticket from the previous key still resumes (and the client
// gets a new one), a ticket two keys old means a full handshake. In-memory handshakes.
#include "core/tls/ticket_keys.hpp"

#include <gtest/gtest.h>
#include <openssl/ssl.h>

#include <memory>

#include "support/test_certs.hpp"

namespace {

using namespace std::chrono_literals;
using tlsbroker::core::ticket_keys;

struct ctx_deleter {
    void operator()(SSL_CTX* c) const { SSL_CTX_free(c); }
};
struct ssl_deleter {
    void operator()(SSL* s) const { SSL_free(s); }
};
struct session_deleter {
    void operator()(SSL_SESSION* s) const { SSL_SESSION_free(s); }
};
using ctx_ptr = std::unique_ptr<SSL_CTX, ctx_deleter>;
using ssl_ptr = std::unique_ptr<SSL, ssl_deleter>;
using session_ptr = std::unique_ptr<SSL_SESSION, session_deleter>;

struct ticket_keys_test : ::testing::Test {
    std::chrono::steady_clock::time_point now = std::chrono::steady_clock::now();
    ticket_keys keys{std::chrono::hours(1), [this] { return now; }};
    ctx_ptr server{SSL_CTX_new(TLS_server_method())};
    ctx_ptr client{SSL_CTX_new(TLS_client_method())};

    void SetUp() override {
        const auto dir = tlsbroker::test::make_temp_dir("ticket-keys");
        const auto files = tlsbroker::test::make_self_signed(dir);
        ASSERT_EQ(SSL_CTX_use_certificate_chain_file(server.get(), files.cert.string().c_str()), 1);
        ASSERT_EQ(SSL_CTX_use_PrivateKey_file(server.get(), files.key.string().c_str(), SSL_FILETYPE_PEM), 1);
        // TLS 1.2: the ticket comes within the handshake, which keeps the in-memory loop simple.
        SSL_CTX_set_max_proto_version(server.get(), TLS1_2_VERSION);
        SSL_CTX_set_session_cache_mode(server.get(), SSL_SESS_CACHE_OFF);  // tickets only
        SSL_CTX_set_session_cache_mode(client.get(), SSL_SESS_CACHE_CLIENT);
        keys.attach(server.get());
    }

    // A full or resumed handshake over a BIO pair; returns the client's session afterwards.
    session_ptr handshake(SSL_SESSION* resume, bool& reused) {
        ssl_ptr s(SSL_new(server.get()));
        ssl_ptr c(SSL_new(client.get()));
        BIO *sb = nullptr, *cb = nullptr;
        BIO_new_bio_pair(&sb, 0, &cb, 0);
        SSL_set_bio(s.get(), sb, sb);
        SSL_set_bio(c.get(), cb, cb);
        SSL_set_accept_state(s.get());
        SSL_set_connect_state(c.get());
        if (resume) SSL_set_session(c.get(), resume);
        bool s_done = false, c_done = false;
        for (int i = 0; i < 100 && !(s_done && c_done); ++i) {
            if (!c_done) c_done = SSL_do_handshake(c.get()) == 1;
            if (!s_done) s_done = SSL_do_handshake(s.get()) == 1;
        }
        EXPECT_TRUE(s_done && c_done) << "handshake did not finish";
        reused = SSL_session_reused(c.get()) == 1;
        // A clean end: an SSL freed without it makes its session not resumable.
        SSL_set_shutdown(c.get(), SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
        SSL_set_shutdown(s.get(), SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
        return session_ptr(SSL_get1_session(c.get()));
    }
};

const unsigned char* ticket_of(SSL_SESSION* s, std::size_t& len) {
    const unsigned char* t = nullptr;
    SSL_SESSION_get0_ticket(s, &t, &len);
    return t;
}

TEST_F(ticket_keys_test, a_ticket_resumes_under_the_current_key) {
    bool reused = true;
    auto first = handshake(nullptr, reused);
    EXPECT_FALSE(reused);
    ASSERT_TRUE(SSL_SESSION_has_ticket(first.get()));
    handshake(first.get(), reused);
    EXPECT_TRUE(reused);
}

TEST_F(ticket_keys_test, after_a_rotation_the_previous_key_resumes_and_issues_a_new_ticket) {
    bool reused = false;
    auto first = handshake(nullptr, reused);
    now += 61min;
    auto second = handshake(first.get(), reused);
    EXPECT_TRUE(reused) << "a ticket under the previous key must still resume";
    EXPECT_EQ(keys.rotations(), 1u);
    std::size_t a = 0, b = 0;
    const auto* ta = ticket_of(first.get(), a);
    const auto* tb = ticket_of(second.get(), b);
    ASSERT_TRUE(ta && tb);
    EXPECT_FALSE(a == b && std::equal(ta, ta + a, tb)) << "the client should have a ticket under the new key";
}

TEST_F(ticket_keys_test, a_ticket_two_keys_old_means_a_full_handshake) {
    bool reused = false;
    auto first = handshake(nullptr, reused);
    now += 61min;
    handshake(nullptr, reused);  // rotation 1
    now += 61min;
    handshake(first.get(), reused);  // rotation 2: the first key is gone
    EXPECT_FALSE(reused);
    EXPECT_EQ(keys.rotations(), 2u);
}

}  // namespace
