// Load-time checks of TLS material, so a bad certificate is a config error and not a
// failure at the first handshake.
#pragma once

#include <filesystem>
#include <string>

namespace tlsbroker::config {

// Each returns "" when fine, else the problem (naming the file and OpenSSL's reason).
std::string check_certificate_and_key(const std::filesystem::path& cert, const std::filesystem::path& key);
std::string check_ca_file(const std::filesystem::path& file);
std::string check_crl_file(const std::filesystem::path& file);
std::string check_ciphers(const std::string& tls12_list);
std::string check_ciphersuites(const std::string& tls13_list);

}  // namespace tlsbroker::config
