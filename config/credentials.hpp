// The certificate a listener serves and its private key, read from files. One reader for the
// config check, the TLS contexts and the certificate watch, so they judge a file alike:
// - a PEM chain (leaf first) with the key in `private_key`;
// - one PEM file holding the chain and the key (`private_key` omitted);
// - a PKCS#12 (PFX) file holding key, leaf and chain, told apart from PEM by its content.
// A password (a PFX's, or an encrypted PEM key's) comes from `password_file`. The Windows
// certificate store (config/cert_store.hpp) fills the same `credentials`.
#pragma once

#include <openssl/evp.h>
#include <openssl/x509.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "config/config.hpp"

namespace tlsbroker::config {

// One problem with a certificate or key, on the key of its JSON object it is about
// ("certificate", "private_key", "certificate_password_file").
struct field_problem {
    std::string field;
    std::string message;
};

struct x509_free_fn {
    void operator()(X509* x) const { X509_free(x); }
};
struct pkey_free_fn {
    void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
using x509_ptr = std::unique_ptr<X509, x509_free_fn>;
using pkey_ptr = std::unique_ptr<EVP_PKEY, pkey_free_fn>;

struct credentials {
    x509_ptr leaf;                // set whenever the certificate could be read, even if the key could not
    std::vector<x509_ptr> chain;  // the intermediates, in the file's order
    pkey_ptr key;
    bool pkcs12 = false;
    std::vector<field_problem> problems;  // empty when leaf and key are usable together
    bool ok() const { return problems.empty() && leaf && key; }
};

// Reads and checks: every block parses, the key is there and belongs to the leaf, and OpenSSL
// accepts both for a server (key size and digests meet its security level). Never prompts.
credentials read_credentials(const certificate_source& source);

// "SHA256:AB:CD:…" of a certificate (what `openssl x509 -fingerprint -sha256` shows).
std::string sha256_fingerprint(const X509* cert);
// "3A4F…": the SHA-1 thumbprint, 40 upper-case hex digits (what the Windows certificate store shows).
std::string sha1_thumbprint(const X509* cert);

}  // namespace tlsbroker::config
