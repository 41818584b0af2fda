// Files that hold secrets (private keys, bearer tokens): who besides their owner may read
// them, and the rules for a token file.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "config/loader.hpp"

namespace tlsbroker::config {

// "" when neither group nor others may read `file`, else what is wrong ("readable by group
// and others (mode 0644)"). POSIX permission bits only: on Windows it is always "" (the
// service's start check judges the ACLs instead, service/windows/start_check.cpp).
std::string secret_exposure(const std::filesystem::path& file);
// True when group members may read `file` and this process is in its group (never on Windows).
bool readable_through_own_group(const std::filesystem::path& file);

// Reads a bearer token: one line of 16 to 4096 printable ASCII characters without spaces
// (leading and trailing white space, such as the final newline, is dropped), in a file only
// its owner may read. Returns "" and sets `token`, or the problem naming the file.
std::string read_token_file(const std::filesystem::path& file, std::string& token);

// A warning for every file holding a private key (or its password) of `c` that others, or a
// group this process is not in, may read, at its JSON pointer. A file its group may read,
// where the broker is in that group, is shared on purpose: Debian hands keys to services that
// way (root:ssl-cert 0640, the snakeoil key among them), and the packaged service's user is in
// ssl-cert.
void warn_exposed_keys(const broker_config& c, std::vector<config_error>& warnings);

}  // namespace tlsbroker::config
