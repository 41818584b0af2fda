// A starter configuration for a fresh install: TLS on the given port in front of one
// backend, with a self-signed certificate the operator replaces.
#pragma once

#include <filesystem>
#include <string>

namespace tlsbroker::service {

// What the installer writes when it is given no value (the MSI's properties default to these).
inline constexpr const char* default_listen_port = "8443";
inline constexpr const char* default_backend = "127.0.0.1:9000";
// Not 9100: that is node_exporter's, which often runs on the same host.
inline constexpr const char* default_status_port = "8417";

// Writes dir/tlsbroker.json, dir/server.crt and dir/server.key unless dir/tlsbroker.json
// exists (an upgrade never overwrites it). Returns "" on success or when kept, else the problem.
std::string write_default_config(const std::filesystem::path& dir, const std::string& listen_port,
                                 const std::string& backend, const std::string& status_port = default_status_port);

// A new self-signed certificate (CN=tlsbroker, for localhost) and its key (on POSIX created
// with mode 0600; on Windows the installer sets the ACLs). "" or the problem.
std::string write_self_signed(const std::filesystem::path& cert_path, const std::filesystem::path& key_path);

// Whether `cert_path` holds a certificate write_self_signed() made (self-issued, CN=tlsbroker),
// which the installer may replace.
bool is_generated_certificate(const std::filesystem::path& cert_path);

}  // namespace tlsbroker::service
