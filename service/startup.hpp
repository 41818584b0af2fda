// The start-up sequence, once for every platform: load the config file (every problem with
// its JSON pointer), configure logging, log the "starting" line, build and start the server.
// Each failure carries its exit code (core/common/exit_codes.hpp). What only one platform does (the
// Windows service's file ACL check, its START_PENDING checkpoints, the Event Log, the
// preshutdown check) comes in through startup_hooks; the platform files only turn signals or
// SCM events into calls on the server.
#pragma once

#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "core/server/server.hpp"

namespace tlsbroker::service {

struct startup_failure {
    int code = 0;                       // core/common/exit_codes.hpp
    std::string what;                   // one line: why (config problems joined with "; ")
    std::vector<std::string> problems;  // config_invalid: each problem, "pointer: reason"
};

struct startup_hooks {
    bool console = true;  // the log also goes to the console (log::configure)
    // The config is valid; its log file is not open yet. May refuse the start.
    std::function<std::optional<startup_failure>(const std::filesystem::path& file, const config::broker_config&)>
        check_config;
    // The log is open, before the "starting" line.
    std::function<void()> log_opened;
    // After the "starting" line, before the server is built.
    std::function<void(const config::broker_config&)> before_server;
};

struct startup {
    std::unique_ptr<core::server> server;  // started; null when the start failed
    startup_failure failure;               // when it failed
};

startup start_broker(const std::filesystem::path& file, const startup_hooks& hooks = {});

}  // namespace tlsbroker::service
