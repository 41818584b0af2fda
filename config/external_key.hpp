// A private key that stays where it is (#28: a non-exportable key in the Windows certificate
// store): an OpenSSL EVP_PKEY whose public half comes from the leaf certificate and whose
// signatures are made by a `key_signer`. It is served like any key (SSL_CTX_use_PrivateKey
// next to its leaf) for TLS 1.2 (RSA PKCS#1, RSA-PSS, ECDSA) and TLS 1.3 (RSA-PSS, ECDSA).
//
// How (external_key.cpp, external_key_signature.cpp): a small OpenSSL 3 provider built into
// the process, registered once, on the first call. Its key manager ("RSA:rsaEncryption",
// "EC:id-ecPublicKey") keeps the leaf's public key and the signer; public operations (size,
// parameters, comparison, export of the public half) go to the default provider's copy. Its
// signature ("RSA", "ECDSA") hashes the handshake data with OpenSSL and hands the digest to the
// signer. The process's default property query gets "?provider!=tlsbroker.external", so nothing
// else picks the provider; OpenSSL reaches its signature for these keys because the key's own
// provider is where it looks when the key cannot be exported (OpenVPN's xkey does the same).
// The key owns the signer: freeing the last reference (the SSL_CTX of a replaced context)
// destroys it.
#pragma once

#include <openssl/x509.h>

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "config/credentials.hpp"

namespace tlsbroker::config {

enum class sign_scheme { rsa_pkcs1, rsa_pss, ecdsa };

struct sign_request {
    sign_scheme scheme = sign_scheme::rsa_pkcs1;
    std::string digest;       // OpenSSL's short name of the hash: "SHA256", "SHA384", "SHA512", "SHA1"
    std::string mgf1_digest;  // rsa_pss: MGF1's hash (TLS: the same as `digest`)
    int salt_length = 0;      // rsa_pss: in bytes
    const unsigned char* hash = nullptr;
    std::size_t hash_size = 0;
};

class key_signer {
public:
    virtual ~key_signer() = default;
    // Signs `r.hash`: RSA gives the signature block, ECDSA a DER ECDSA-Sig-Value. false with
    // `problem` set (for the log) when it cannot; that handshake then fails. Called from any
    // handshake's thread, possibly from several at once.
    virtual bool sign(const sign_request& r, std::vector<unsigned char>& signature, std::string& problem) = 0;
};

// The key for `leaf` (an RSA or EC public key) that signs through `signer`; null with
// `problem` set when OpenSSL or the key type does not allow it.
pkey_ptr make_external_key(X509* leaf, std::shared_ptr<key_signer> signer, std::string& problem);

// One signature over a SHA-256 hash with `signer`, in the scheme a key of its kind takes in TLS
// (ECDSA for an EC key, else RSA PKCS#1): "" when it signs, else its problem. The certificate
// store tries a key once when it loads it, so a key the service may not use fails the config,
// not each handshake. Not told to the failure hook.
std::string try_signer(key_signer& signer, bool ec);

// An ECDSA signature given as r||s (two big-endian halves of equal size, as CNG's
// NCryptSignHash gives it) as the DER ECDSA-Sig-Value a signer returns; false when `raw` is
// empty or of odd size.
bool ecdsa_der_from_raw(const std::vector<unsigned char>& raw, std::vector<unsigned char>& der);

// Told of every failed signature (after the signer returned false or threw), on the
// handshake's thread. The broker sets it once to log and count (core/tls/key_sign_failures.hpp);
// nullptr: nothing is told.
using sign_failure_hook = void (*)(const std::string& problem);
void set_sign_failure_hook(sign_failure_hook hook);

}  // namespace tlsbroker::config
