// TLS without sockets or files, for the external key's tests on Linux and under Wine: a key and
// a self-signed certificate made in memory (tests/support/test_certs writes files through POSIX
// calls), and one handshake between a server context and a client over a BIO pair.
#pragma once

#include <openssl/ssl.h>

#include <memory>
#include <string>

#include "config/credentials.hpp"
#include "support/test_certs.hpp"

namespace tlsbroker::test {

struct memory_leaf {
    config::x509_ptr cert;  // CN=localhost, SAN DNS:localhost, valid from an hour ago for a day
    config::pkey_ptr key;
};
memory_leaf make_memory_leaf(key_type kt);

using ctx_ptr = std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)>;

// A server context serving `leaf` with `key` (each step expected to succeed).
ctx_ptr server_ctx(X509* leaf, EVP_PKEY* key);

struct outcome {
    bool ok = false;                 // both sides finished the handshake
    int signature_type = NID_undef;  // as the client saw it: EVP_PKEY_RSA, EVP_PKEY_RSA_PSS, EVP_PKEY_EC
    int digest = NID_undef;
    long verify = -1;  // the client's verdict on the certificate
    std::string server_error;
};

// One handshake at `version` with a client that trusts `leaf` and offers only `sigalgs`.
outcome handshake(SSL_CTX* server, X509* leaf, int version, const char* sigalgs);

}  // namespace tlsbroker::test
