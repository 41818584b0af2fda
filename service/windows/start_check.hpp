// At service start, before the config is applied (and before its log file is opened): who
// else may change the config, the keys, the certificates and CAs it names, or their folders.
// Anything a non-admin may write is refused; a config or key other users may read is
// logged as a warning (Event Log too). Policy: acl_policy.hpp.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "config/config.hpp"

namespace tlsbroker::service {

struct file_check {
    bool refused = false;
    std::string reason;                 // for the log and the Event Log, when refused
    std::vector<std::string> warnings;  // a config or key others may read: one line each
    bool skipped = false;               // this system keeps no file ACLs (Wine)
};

// The caller logs the result once its log is open (the check runs before, so that a config
// nobody should trust never picks the log file).

file_check check_config_files(const std::filesystem::path& config_file, const config::broker_config& cfg);

}  // namespace tlsbroker::service
