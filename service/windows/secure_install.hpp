// The installer's config step (the MSI runs `tlsbroker.exe --write-default-config DIR` as
// SYSTEM): lock %ProgramData%\tlsbroker down before anything is written into it, take over a
// folder that existed already, set aside what a non-admin could have planted or changed, and
// replace a generated key that other users could read. Policy: acl_policy.hpp.
#pragma once

#include <filesystem>
#include <ostream>
#include <string>

#include "service/default_config.hpp"

namespace tlsbroker::service {

// Secures `dir` and writes the default config (write_default_config) into it. Returns "" or
// the problem; prints each action to `out`.
std::string install_config_dir(const std::filesystem::path& dir, const starter_values& values, std::ostream& out);

}  // namespace tlsbroker::service
