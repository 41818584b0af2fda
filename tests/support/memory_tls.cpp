#include "support/memory_tls.hpp"

#include <gtest/gtest.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

namespace tlsbroker::test {

memory_leaf make_memory_leaf(key_type kt) {
    memory_leaf l;
    l.key.reset(kt == key_type::rsa2048 ? EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", std::size_t{2048})
                                        : EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
    l.cert.reset(X509_new());
    if (!l.key || !l.cert) return {};
    X509* x = l.cert.get();
    unsigned char serial[8];
    RAND_bytes(serial, sizeof serial);
    serial[0] &= 0x7f;
    BIGNUM* bn = BN_bin2bn(serial, sizeof serial, nullptr);
    BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x));
    BN_free(bn);
    X509_set_version(x, 2);
    X509_gmtime_adj(X509_getm_notBefore(x), -3600);
    X509_gmtime_adj(X509_getm_notAfter(x), 24 * 3600);
    X509_NAME* name = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("localhost"), -1, -1,
                               0);
    X509_set_issuer_name(x, name);
    X509_set_pubkey(x, l.key.get());
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, x, x, nullptr, nullptr, 0);
    if (X509_EXTENSION* san = X509V3_EXT_conf_nid(nullptr, &ctx, NID_subject_alt_name, "DNS:localhost")) {
        X509_add_ext(x, san, -1);
        X509_EXTENSION_free(san);
    }
    if (X509_sign(x, l.key.get(), EVP_sha256()) <= 0) return {};
    return l;
}

namespace {
using ssl_ptr = std::unique_ptr<SSL, decltype(&SSL_free)>;
}  // namespace

ctx_ptr server_ctx(X509* leaf, EVP_PKEY* key) {
    ctx_ptr ctx(SSL_CTX_new(TLS_server_method()), &SSL_CTX_free);
    EXPECT_EQ(SSL_CTX_use_certificate(ctx.get(), leaf), 1);
    EXPECT_EQ(SSL_CTX_use_PrivateKey(ctx.get(), key), 1);
    EXPECT_EQ(SSL_CTX_check_private_key(ctx.get()), 1);
    return ctx;
}

outcome handshake(SSL_CTX* server, X509* leaf, int version, const char* sigalgs) {
    ctx_ptr cctx(SSL_CTX_new(TLS_client_method()), &SSL_CTX_free);
    SSL_CTX_set_min_proto_version(cctx.get(), version);
    SSL_CTX_set_max_proto_version(cctx.get(), version);
    EXPECT_EQ(SSL_CTX_set1_sigalgs_list(cctx.get(), sigalgs), 1);
    X509_STORE_add_cert(SSL_CTX_get_cert_store(cctx.get()), leaf);
    SSL_CTX_set_verify(cctx.get(), SSL_VERIFY_PEER, nullptr);
    ssl_ptr s(SSL_new(server), &SSL_free);
    ssl_ptr c(SSL_new(cctx.get()), &SSL_free);
    BIO *sb = nullptr, *cb = nullptr;
    BIO_new_bio_pair(&sb, 0, &cb, 0);
    SSL_set_bio(s.get(), sb, sb);
    SSL_set_bio(c.get(), cb, cb);
    SSL_set_accept_state(s.get());
    SSL_set_connect_state(c.get());
    outcome o;
    ERR_clear_error();
    bool s_done = false, c_done = false;
    // Each side moves until it waits for the other; a handshake takes a few rounds.
    for (int round = 0; round < 50 && !(s_done && c_done); ++round) {
        for (auto [ssl, done] : {std::pair{c.get(), &c_done}, std::pair{s.get(), &s_done}}) {
            if (*done) continue;
            const int r = SSL_do_handshake(ssl);
            const int e = r == 1 ? SSL_ERROR_NONE : SSL_get_error(ssl, r);
            if (r == 1) *done = true;
            if (e != SSL_ERROR_NONE && e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
                if (ssl == s.get()) {
                    char buf[256];
                    ERR_error_string_n(ERR_peek_error(), buf, sizeof buf);
                    o.server_error = buf;
                }
                ERR_clear_error();
                return o;
            }
        }
    }
    o.ok = s_done && c_done;
    SSL_get_peer_signature_type_nid(c.get(), &o.signature_type);
    SSL_get_peer_signature_nid(c.get(), &o.digest);
    o.verify = SSL_get_verify_result(c.get());
    return o;
}

}  // namespace tlsbroker::test
