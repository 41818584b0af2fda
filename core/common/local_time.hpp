// The local calendar time of a time_t, thread-safe: localtime_r on POSIX
// (local_time_posix.cpp), localtime_s on Windows (local_time_windows.cpp).
#pragma once

#include <ctime>

namespace tlsbroker::core {

void local_time(std::time_t t, std::tm& out);

}  // namespace tlsbroker::core
