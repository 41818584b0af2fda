// Load-time checks of TLS material, so a bad certificate is a config error and not a
// failure at the first handshake.
#pragma once

#include <openssl/x509.h>

#include <filesystem>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "config/credentials.hpp"
#include "config/loader.hpp"

namespace tlsbroker::config {

// A certificate and its key (read_credentials() in credentials.hpp); expiry is no error.
// The config loader and the certificate watch both judge the files with this.
std::vector<field_problem> check_certificate_pair(const certificate_source& source);
// Every certificate, key, CA and CRL file of `cfg`, checked as a config load checks them; each
// problem at its JSON pointer ("/listeners/0/tls/private_key").
std::vector<config_error> check_tls_files(const broker_config& cfg);

// Each returns "" when fine, else the problem (naming the file and OpenSSL's reason).
// "" while `leaf` (read from `file`) is within its validity period, else "certificate FILE
// expired on Mon DD HH:MM:SS YYYY GMT" or "... is not valid before ...". Not an error: a
// listener with such a certificate starts and serves it, degraded (core/health/cert_watch).
std::string validity_problem(const X509* leaf, const std::filesystem::path& file);
// A warning for every certificate of `cfg` outside its validity period, at its JSON pointer.
void warn_certificate_validity(const broker_config& cfg, std::vector<config_error>& warnings);
std::string check_ca_file(const std::filesystem::path& file);
std::string check_crl_file(const std::filesystem::path& file);
// Every name or group in the list must match a cipher, and only AEAD suites may result.
std::string check_ciphers(const std::string& tls12_list);
// Every TLS 1.3 suite named must exist.
std::string check_ciphersuites(const std::string& tls13_list);
// Every key exchange group named must be known to the OpenSSL the broker runs with.
std::string check_groups(const std::string& list);

}  // namespace tlsbroker::config
