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

// Reads a bearer token: one line of 16 to 4096 printable ASCII characters without spaces
// (leading and trailing white space, such as the final newline, is dropped), in a file only
// its owner may read. Returns "" and sets `token`, or the problem naming the file.
std::string read_token_file(const std::filesystem::path& file, std::string& token);

// A warning for every file holding a private key (or its password) of `c` that group or
// others may read, at its JSON pointer.
void warn_exposed_keys(const broker_config& c, std::vector<config_error>& warnings);

}  // namespace tlsbroker::config
