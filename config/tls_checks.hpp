// Load-time checks of TLS material, so a bad certificate is a config error and not a
// failure at the first handshake.
#pragma once

#include <openssl/x509.h>

#include <filesystem>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "config/loader.hpp"

namespace tlsbroker::config {

// One problem with a certificate or key, on the key of its JSON object it is about
// ("certificate", "private_key").
struct field_problem {
    std::string field;
    std::string message;
};
// A certificate and its key: each readable and well formed, then matched against each other.
// The config loader and the certificate watch both judge the files with this.
std::vector<field_problem> check_certificate_pair(const std::filesystem::path& cert, const std::filesystem::path& key);
// Every certificate, key, CA and CRL file of `cfg`, checked as a config load checks them; each
// problem at its JSON pointer ("/listeners/0/tls/private_key").
std::vector<config_error> check_tls_files(const broker_config& cfg);

// Each returns "" when fine, else the problem (naming the file and OpenSSL's reason).
// A PEM chain: the leaf first, then its intermediates; every block must parse, and the
// leaf must not have expired ("certificate FILE expired on Mon DD HH:MM:SS YYYY GMT").
std::string check_certificate(const std::filesystem::path& cert);
// "" while `leaf` (read from `file`) is valid, else the expiry message above.
std::string check_not_expired(const X509* leaf, const std::filesystem::path& file);
// A PEM private key without a passphrase (nothing could type one in at start-up).
std::string check_private_key(const std::filesystem::path& key);
// The key belongs to the chain's leaf, and OpenSSL accepts both for a server
// (key size and signature digests meet the security level).
std::string check_key_matches(const std::filesystem::path& cert, const std::filesystem::path& key);
std::string check_ca_file(const std::filesystem::path& file);
std::string check_crl_file(const std::filesystem::path& file);
// Every name or group in the list must match a cipher, and only AEAD suites may result.
std::string check_ciphers(const std::string& tls12_list);
// Every TLS 1.3 suite named must exist.
std::string check_ciphersuites(const std::string& tls13_list);
// Every key exchange group named must be known to the OpenSSL the broker runs with.
std::string check_groups(const std::string& list);

}  // namespace tlsbroker::config
