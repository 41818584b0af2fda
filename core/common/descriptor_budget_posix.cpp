// The descriptor limit on POSIX: RLIMIT_NOFILE, the soft limit raised toward what is needed.
#include <sys/resource.h>

#include "core/common/descriptor_budget.hpp"

namespace tlsbroker::core {

descriptor_budget fit_descriptor_limit(std::uint64_t needed) {
    descriptor_budget b;
    b.needed = needed;
    rlimit rl{};
    if (::getrlimit(RLIMIT_NOFILE, &rl) != 0) return b;
    b.applies = true;
    const auto unlimited = [](rlim_t v) { return v == RLIM_INFINITY; };
    b.before = unlimited(rl.rlim_cur) ? UINT64_MAX : static_cast<std::uint64_t>(rl.rlim_cur);
    b.hard = unlimited(rl.rlim_max) ? UINT64_MAX : static_cast<std::uint64_t>(rl.rlim_max);
    b.limit = b.before;
    if (b.before < needed) {
        const std::uint64_t want = needed < b.hard ? needed : b.hard;
        rlimit next = rl;
        next.rlim_cur = static_cast<rlim_t>(want);
        if (::setrlimit(RLIMIT_NOFILE, &next) == 0) b.limit = want;
    }
    return b;
}

}  // namespace tlsbroker::core
