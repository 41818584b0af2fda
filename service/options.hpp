// Command-line options shared by the foreground mode and the Windows service.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace tlsbroker::service {

enum class mode { run, check_config, version, help };

struct options {
    mode what = mode::run;
    std::filesystem::path config;  // empty: the platform default
    bool console = false;          // Windows: run in the console even when started by the SCM
};

// Parses argv. On a usage error returns nullopt and fills `error`.
std::optional<options> parse_options(const std::vector<std::string>& args, std::string& error);

const char* usage();

}  // namespace tlsbroker::service
