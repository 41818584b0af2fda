#include "core/tls_context.hpp"

#include <openssl/err.h>

#include <stdexcept>

namespace tlsbroker::core {

namespace {

[[noreturn]] void fail(const std::string& what) {
    const auto reason = openssl_error_text();
    throw std::runtime_error(what + (reason.empty() ? "" : ": " + reason));
}

}  // namespace

std::string openssl_error_text() {
    const unsigned long e = ERR_get_error();
    ERR_clear_error();
    if (e == 0) return {};
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    return buf;
}

tls_context::tls_context(const config::tls_config& cfg)
    : ctx_(SSL_CTX_new(TLS_server_method()), &SSL_CTX_free) {
    SSL_CTX* c = ctx_.get();
    if (c == nullptr) fail("cannot create TLS context");

    const int min = cfg.min_version == "1.3" ? TLS1_3_VERSION : TLS1_2_VERSION;
    if (SSL_CTX_set_min_proto_version(c, min) != 1) fail("cannot set min_version");

    SSL_CTX_set_options(c, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION |
                               SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_IGNORE_UNEXPECTED_EOF |
                               SSL_OP_SINGLE_ECDH_USE);
    if (!cfg.session_tickets) SSL_CTX_set_options(c, SSL_OP_NO_TICKET);
    SSL_CTX_set_mode(c, SSL_MODE_RELEASE_BUFFERS | SSL_MODE_ENABLE_PARTIAL_WRITE |
                            SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);

    const auto& ciphers = cfg.ciphers.empty() ? std::string(default_tls12_ciphers) : cfg.ciphers;
    if (SSL_CTX_set_cipher_list(c, ciphers.c_str()) != 1) fail("invalid ciphers '" + ciphers + "'");
    if (!cfg.ciphersuites.empty() && SSL_CTX_set_ciphersuites(c, cfg.ciphersuites.c_str()) != 1)
        fail("invalid ciphersuites '" + cfg.ciphersuites + "'");

    if (SSL_CTX_use_certificate_chain_file(c, cfg.certificate.string().c_str()) != 1)
        fail("cannot load certificate " + cfg.certificate.string());
    if (SSL_CTX_use_PrivateKey_file(c, cfg.private_key.string().c_str(), SSL_FILETYPE_PEM) != 1)
        fail("cannot load private key " + cfg.private_key.string());
    if (SSL_CTX_check_private_key(c) != 1)
        fail("private key " + cfg.private_key.string() + " does not match the certificate");

    static const unsigned char sid_ctx[] = "tlsbroker";
    SSL_CTX_set_session_id_context(c, sid_ctx, sizeof sid_ctx - 1);
    SSL_CTX_set_session_cache_mode(c, cfg.session_cache_size == 0 ? SSL_SESS_CACHE_OFF
                                                                  : SSL_SESS_CACHE_SERVER);
    SSL_CTX_sess_set_cache_size(c, static_cast<long>(cfg.session_cache_size));
    SSL_CTX_set_timeout(c, static_cast<long>(cfg.session_timeout_s));
}

}  // namespace tlsbroker::core
