// The broker's exit codes, named once: the Windows service reports them to the SCM
// (service/windows/exit_codes.hpp), server::run() returns `unrecoverable`; service/README.md lists them.
#pragma once

namespace tlsbroker::exit_code {

inline constexpr int config_invalid = 1;   // the config file is missing or invalid
inline constexpr int start_failed = 2;     // a listener or the status endpoint cannot bind, TLS setup failed
inline constexpr int unrecoverable = 3;    // the watchdog could not heal an accept path
inline constexpr int log_failed = 4;       // the log file cannot be opened
inline constexpr int config_insecure = 5;  // a non-admin may change the config, a key, or their folder

}  // namespace tlsbroker::exit_code
