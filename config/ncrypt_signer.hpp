// Signing with a key the Windows certificate store will not export (#28): a `key_signer`
// (config/external_key.hpp) over CNG's NCryptSignHash. Windows only (ncrypt_signer_windows.cpp).
#pragma once

#include <cstdint>
#include <memory>

#include "config/external_key.hpp"

namespace tlsbroker::config {

// Takes ownership of `key` and `provider` (NCRYPT_KEY_HANDLE and NCRYPT_PROV_HANDLE; a
// provider of 0 is none) and frees them with the signer. RSA PKCS#1 v1.5, RSA-PSS (MGF1 with
// the signature's hash, as CNG does) and ECDSA (CNG's r||s becomes DER).
std::shared_ptr<key_signer> make_ncrypt_signer(std::uintptr_t key, std::uintptr_t provider);

}  // namespace tlsbroker::config
