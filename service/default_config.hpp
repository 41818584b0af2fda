// A starter configuration for a fresh install: TLS on the given port in front of one
// backend, with a self-signed certificate the operator replaces, or a certificate from the
// Windows certificate store (the MSI's CERT_THUMBPRINT / CERT_SUBJECT).
#pragma once

#include <filesystem>
#include <string>

#include "config/config.hpp"

namespace tlsbroker::service {

// What the installer writes when it is given no value (the MSI's properties default to these).
inline constexpr const char* default_listen_port = "8443";
inline constexpr const char* default_backend = "127.0.0.1:9000";
// Not 9100: that is node_exporter's, which often runs on the same host.
inline constexpr const char* default_status_port = "8417";

// What the installer puts into the starter config (service/options.hpp checks each value).
struct starter_values {
    std::string listen_port = default_listen_port;  // an integer in 1..65535
    std::string backend = default_backend;          // host:port
    std::string status_port = default_status_port;  // an integer in 1..65535
    // used(): the listener's tls.certificate_store, instead of a generated certificate.
    config::store_reference certificate_store;
};

// Writes dir/tlsbroker.json (and, unless it names a store certificate, dir/server.crt and
// dir/server.key) unless dir/tlsbroker.json exists (an upgrade never overwrites it). Returns ""
// on success or when kept, else the problem.
std::string write_default_config(const std::filesystem::path& dir, const starter_values& values);

// A new self-signed certificate (CN=tlsbroker, for localhost) and its key (on POSIX created
// with mode 0600; on Windows the installer sets the ACLs). "" or the problem.
std::string write_self_signed(const std::filesystem::path& cert_path, const std::filesystem::path& key_path);

// Whether `cert_path` holds a certificate write_self_signed() made (self-issued, CN=tlsbroker),
// which the installer may replace.
bool is_generated_certificate(const std::filesystem::path& cert_path);

}  // namespace tlsbroker::service
