// The server-side TLS contexts of a listener, built from its validated tls_config with the
// product's defaults: TLS 1.2+, AEAD only, no renegotiation, no compression, server cipher
// preference, released idle buffers, session cache and tickets on. Several certificates
// may be chosen by server name (SNI); client certificates may be required (mutual TLS).
#pragma once

#include <openssl/ssl.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"
#include "core/tls/resumption_scope.hpp"

namespace tlsbroker::core {

// AEAD-only TLS 1.2 suites, forward secret key exchange.
inline constexpr const char* default_tls12_ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

// TLS 1.3 suites in server preference order: AES-128-GCM first (a cheaper key schedule
// and record cipher than AES-256-GCM/SHA-384, which OpenSSL would otherwise pick).
inline constexpr const char* default_tls13_ciphersuites =
    "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256";

// Key exchange groups when tls.groups is not set, in preference order: the hybrid
// post-quantum X25519MLKEM768 first where the OpenSSL in use has it (3.5 and later), then
// X25519 and P-256. One preference tuple: a client that sent a key share for any of them is
// served without a HelloRetryRequest (a client of OpenSSL 3.0 gets X25519 at once).
inline constexpr const char* hybrid_tls_groups = "X25519MLKEM768:X25519:P-256";
inline constexpr const char* classic_tls_groups = "X25519:P-256";
// The default for the OpenSSL the process runs with: known groups are probed at run time,
// so one source serves OpenSSL 3.0 (Linux) and 3.5 (Windows).
const char* default_tls_groups();
// The OpenSSL the process runs with, as it names itself ("OpenSSL 3.5.7 1 Jul 2026").
std::string openssl_version_text();

class ticket_keys;

struct ssl_ctx_deleter {
    void operator()(SSL_CTX* c) const { SSL_CTX_free(c); }
};
using ssl_ctx_ptr = std::unique_ptr<SSL_CTX, ssl_ctx_deleter>;

class tls_context {
public:
    // `listener` names the listener the contexts serve: sessions resume only there, and only
    // under the same client-auth policy (resumption_scope.hpp). Throws std::runtime_error
    // naming the file or setting and OpenSSL's reason.
    tls_context(std::string_view listener, const config::tls_config& cfg);
    ~tls_context();
    tls_context(const tls_context&) = delete;
    tls_context& operator=(const tls_context&) = delete;

    // The context new connections start with; SNI may switch them to another.
    SSL_CTX* native() const { return default_.get(); }
    // The context for `server_name`: exact names first, then wildcards; nullptr when none.
    SSL_CTX* for_name(const std::string& server_name) const;
    const resumption_scope& scope() const { return scope_; }

private:
    static int on_server_name(SSL* ssl, int* alert, void* arg);
    ssl_ctx_ptr make_ctx(const config::tls_config& cfg, const config::certificate_source& source) const;

    resumption_scope scope_;
    std::shared_ptr<ticket_keys> tickets_;  // null when session tickets are off
    ssl_ctx_ptr default_;
    struct named {
        std::vector<std::string> names;  // lower case
        ssl_ctx_ptr ctx;
    };
    std::vector<named> sni_;
    bool refuse_unknown_ = false;
    bool refuse_missing_ = false;
};

// True when `pattern` ("a.example" or "*.b.example") matches `name` (case-insensitive);
// a wildcard stands for exactly one label.
bool server_name_matches(const std::string& pattern, const std::string& name);

// The text of the oldest queued OpenSSL error (and clears the queue); "" when none.
std::string openssl_error_text();

}  // namespace tlsbroker::core
