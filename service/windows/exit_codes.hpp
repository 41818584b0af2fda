// Service-specific exit codes the SCM shows (sc query: SERVICE_EXIT_CODE) after a failed
// start or an exit; the values are core/common/exit_codes.hpp's, and service/README.md lists them.
#pragma once

#include "core/common/exit_codes.hpp"

namespace tlsbroker::service::exit_code {

inline constexpr unsigned long config_invalid = tlsbroker::exit_code::config_invalid;
inline constexpr unsigned long start_failed = tlsbroker::exit_code::start_failed;
inline constexpr unsigned long unrecoverable = tlsbroker::exit_code::unrecoverable;
inline constexpr unsigned long log_failed = tlsbroker::exit_code::log_failed;
inline constexpr unsigned long config_insecure = tlsbroker::exit_code::config_insecure;

}  // namespace tlsbroker::service::exit_code
