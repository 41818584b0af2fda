// The server-side SSL_CTX of a listener, built from its validated tls_config with the
// product's defaults: TLS 1.2+, AEAD only, no renegotiation, no compression, server cipher
// preference, released idle buffers, session cache and tickets on.
#pragma once

#include <openssl/ssl.h>

#include <memory>
#include <string>

#include "config/config.hpp"

namespace tlsbroker::core {

// AEAD-only TLS 1.2 suites, forward secret key exchange.
inline constexpr const char* default_tls12_ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

class tls_context {
public:
    // Throws std::runtime_error naming the file or setting and OpenSSL's reason.
    explicit tls_context(const config::tls_config& cfg);
    SSL_CTX* native() const { return ctx_.get(); }

private:
    std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> ctx_;
};

// The text of the oldest queued OpenSSL error (and clears the queue); "" when none.
std::string openssl_error_text();

}  // namespace tlsbroker::core
