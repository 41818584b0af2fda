// What each platform provides to main(): run the broker the way that platform expects.
#pragma once

#include "service/options.hpp"

namespace tlsbroker::service {

// POSIX: foreground until SIGTERM/SIGINT. Windows: SCM service, or console when not
// started by the SCM. Returns the process exit code.
int run_platform(const options& opts);

}  // namespace tlsbroker::service
