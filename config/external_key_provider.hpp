// The parts of the external-key provider (config/external_key.hpp) its two files share: the
// key data its key manager keeps, the property strings, and the dispatch tables.
#pragma once

#include <openssl/core.h>
#include <openssl/evp.h>

#include <memory>
#include <string>

#include "config/external_key.hpp"

namespace tlsbroker::config::external {

inline constexpr const char* provider_name = "tlsbroker.external";
inline constexpr const char* provider_props = "provider=tlsbroker.external";
// What the provider asks for when it needs OpenSSL's own implementations (never itself).
inline constexpr const char* native_query = "provider!=tlsbroker.external";

// One key of the key manager: the public key (a default-provider EVP_PKEY) and, for an external
// key, the signer. A key imported from another provider (a certificate's public key being
// compared with ours) has no signer.
struct key_data {
    EVP_PKEY* pub = nullptr;
    std::shared_ptr<key_signer> signer;
    ~key_data() { EVP_PKEY_free(pub); }
};

// A function as a dispatch table entry takes it.
template <typename F>
void (*f(F* function))() {
    return reinterpret_cast<void (*)()>(function);
}

extern const OSSL_DISPATCH rsa_keymgmt_functions[];
extern const OSSL_DISPATCH ec_keymgmt_functions[];
extern const OSSL_DISPATCH signature_functions[];

// Tells the hook (set_sign_failure_hook) and puts `problem` on OpenSSL's error queue.
void report_failure(const std::string& problem);

}  // namespace tlsbroker::config::external
