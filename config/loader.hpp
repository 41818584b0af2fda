// Turns JSON into a validated, immutable broker_config, or into the list of every problem.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"

namespace tlsbroker::config {

struct config_error {
    std::string pointer;            // JSON pointer, "" for the document itself ("/listeners/0/backlog")
    std::string message;            // "must be an integer in 1..65535"
    std::string to_string() const;  // "/listeners/0/backlog: must be an integer in 1..65535"
};

struct load_result {
    config_ptr config;                 // set only when errors is empty
    std::vector<config_error> errors;  // every problem found, in document order
    // What loads but should be fixed (a private key that group or others may read); to be
    // logged as warnings. Filled only when the config loaded.
    std::vector<config_error> warnings;
    bool ok() const { return errors.empty(); }
};

// Reads and validates a file. Relative paths inside resolve against the file's folder.
load_result load_file(const std::filesystem::path& file);
// Same, from text; relative paths resolve against base_dir.
load_result load_text(std::string_view json_text, const std::filesystem::path& base_dir);

}  // namespace tlsbroker::config
