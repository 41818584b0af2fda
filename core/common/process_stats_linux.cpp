// The process_* metrics on Linux, read as the Prometheus Go client's procfs collector does:
// descriptors from /proc/self/fd, the limit from RLIMIT_NOFILE, RSS, CPU ticks and the start
// tick from /proc/self/stat, the boot time from /proc/stat.
#include <sys/resource.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "core/common/process_stats.hpp"

namespace tlsbroker::core {

namespace {

// The fields of /proc/self/stat after the command name (which may hold spaces and
// parentheses, so the split starts after the last ')'); [0] is field 3, the state.
std::vector<std::string> stat_fields() {
    std::ifstream in("/proc/self/stat");
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const auto close = text.rfind(')');
    std::vector<std::string> out;
    if (close == std::string::npos) return out;
    std::istringstream rest(text.substr(close + 1));
    for (std::string f; rest >> f;) out.push_back(f);
    return out;
}

std::optional<double> boot_time() {
    std::ifstream in("/proc/stat");
    for (std::string line; std::getline(in, line);)
        if (line.rfind("btime ", 0) == 0) return std::stod(line.substr(6));
    return std::nullopt;
}

}  // namespace

process_stats read_process_stats() {
    process_stats s;
    std::error_code ec;
    double fds = 0;
    for (std::filesystem::directory_iterator it("/proc/self/fd", ec), end; !ec && it != end; it.increment(ec)) ++fds;
    if (!ec) s.open_fds = fds;
    if (rlimit r{}; getrlimit(RLIMIT_NOFILE, &r) == 0) s.max_fds = static_cast<double>(r.rlim_cur);

    const auto f = stat_fields();
    const auto ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
    // Fields 14 utime, 15 stime, 22 starttime, 24 rss: indices 11, 12, 19, 21.
    if (f.size() > 21 && ticks > 0) {
        try {
            s.cpu_seconds = (std::stod(f[11]) + std::stod(f[12])) / ticks;
            s.resident_bytes = std::stod(f[21]) * static_cast<double>(sysconf(_SC_PAGESIZE));
            if (const auto boot = boot_time()) s.start_time_unix = *boot + std::stod(f[19]) / ticks;
        } catch (const std::exception&) {  // a field that is not a number: leave it out
        }
    }
    return s;
}

}  // namespace tlsbroker::core
