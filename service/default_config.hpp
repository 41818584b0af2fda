// A starter configuration for a fresh install: TLS on the given port in front of one
// backend, with a self-signed certificate the operator replaces.
#pragma once

#include <filesystem>
#include <string>

namespace tlsbroker::service {

// Writes dir/tlsbroker.json, dir/server.crt and dir/server.key unless dir/tlsbroker.json
// exists (an upgrade never overwrites it). Returns "" on success or when kept, else the problem.
std::string write_default_config(const std::filesystem::path& dir, const std::string& listen_port,
                                 const std::string& backend, const std::string& status_port = "9100");

}  // namespace tlsbroker::service
