// What the process uses, for the process_* metrics every Prometheus client library exports
// (open_fds, max_fds, resident_memory_bytes, cpu_seconds_total, start_time_seconds). One
// interface; each platform's half reads its own sources: process_stats_linux.cpp (/proc and
// getrlimit), process_stats_windows.cpp (GetProcessHandleCount, GetProcessMemoryInfo,
// GetProcessTimes). A value the platform cannot give is left empty and its family is not
// published.
#pragma once

#include <optional>

namespace tlsbroker::core {

struct process_stats {
    std::optional<double> open_fds;         // Linux: descriptors; Windows: handles
    std::optional<double> max_fds;          // Linux: the soft RLIMIT_NOFILE; Windows: 16M, the system's cap
    std::optional<double> resident_bytes;   // Linux: RSS; Windows: the working set
    std::optional<double> cpu_seconds;      // user + system
    std::optional<double> start_time_unix;  // seconds since the epoch
};

process_stats read_process_stats();

}  // namespace tlsbroker::core
