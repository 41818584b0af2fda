// OpenSSL's errors as the config's messages give them, shared by the certificate and key
// readers (credentials.cpp) and the TLS file checks (tls_checks.cpp).
#pragma once

#include <openssl/bio.h>

#include <memory>
#include <string>

namespace tlsbroker::config {

using bio_ptr = std::unique_ptr<BIO, decltype(&BIO_free)>;

// OpenSSL's most specific reason for the last failure ("no PEM <what> found" when the input
// held no PEM block of that kind), then a clean error queue.
std::string openssl_reason(const char* what_was_expected);

// True when the last failure was the end of the PEM blocks (no further BEGIN line).
bool pem_no_start_line();

}  // namespace tlsbroker::config
