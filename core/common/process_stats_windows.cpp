// The process_* metrics on Windows, as the Prometheus Go client's Windows collector gives them:
// open_fds is the handle count (GetProcessHandleCount), max_fds the system's fixed cap of 16M
// handles per process (there is no per-process limit to read), resident memory the working
// set (GetProcessMemoryInfo), CPU the kernel and user times and the start time the creation
// time (GetProcessTimes; FILETIME counts 100 ns since 1601-01-01).
#include <windows.h>
// psapi.h after windows.h.
#include <psapi.h>

#include <cstdint>

#include "core/common/process_stats.hpp"

namespace tlsbroker::core {

namespace {

constexpr double filetime_ticks_per_second = 1e7;
constexpr double seconds_1601_to_1970 = 11644473600.0;

double ticks(const FILETIME& t) {
    return static_cast<double>((static_cast<std::uint64_t>(t.dwHighDateTime) << 32) | t.dwLowDateTime);
}

}  // namespace

process_stats read_process_stats() {
    process_stats s;
    HANDLE self = GetCurrentProcess();
    if (DWORD handles = 0; GetProcessHandleCount(self, &handles)) s.open_fds = static_cast<double>(handles);
    s.max_fds = 16.0 * 1024 * 1024;
    PROCESS_MEMORY_COUNTERS mem{};
    mem.cb = sizeof mem;
    if (GetProcessMemoryInfo(self, &mem, sizeof mem)) s.resident_bytes = static_cast<double>(mem.WorkingSetSize);
    FILETIME created{}, exited{}, kernel{}, user{};
    if (GetProcessTimes(self, &created, &exited, &kernel, &user)) {
        s.cpu_seconds = (ticks(kernel) + ticks(user)) / filetime_ticks_per_second;
        s.start_time_unix = ticks(created) / filetime_ticks_per_second - seconds_1601_to_1970;
    }
    return s;
}

}  // namespace tlsbroker::core
