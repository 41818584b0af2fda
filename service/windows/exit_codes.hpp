// Service-specific exit codes the SCM shows (sc query: SERVICE_EXIT_CODE) after a failed
// start or an exit; the README lists them.
#pragma once

namespace tlsbroker::service::exit_code {

inline constexpr unsigned long config_invalid = 1;   // the config file is missing or invalid
inline constexpr unsigned long start_failed = 2;     // a listener or the status endpoint cannot bind, TLS setup failed
inline constexpr unsigned long unrecoverable = 3;    // the watchdog could not heal an accept path
inline constexpr unsigned long log_failed = 4;       // the log file cannot be opened
inline constexpr unsigned long config_insecure = 5;  // a non-admin may change the config, a key, or their folder

}  // namespace tlsbroker::service::exit_code
