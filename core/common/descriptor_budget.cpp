#include "core/common/descriptor_budget.hpp"

namespace tlsbroker::core {

std::uint64_t descriptors_needed(const config::broker_config& cfg) {
    std::uint64_t n = descriptor_reserve;
    if (cfg.status.enabled) n += 1 + status_descriptors;
    for (const auto& l : cfg.listeners) n += 2 + 2 * static_cast<std::uint64_t>(l.max_connections);
    return n;
}

// fit_descriptor_limit: descriptor_budget_posix.cpp (RLIMIT_NOFILE), descriptor_budget_windows.cpp (none).

std::string describe(const descriptor_budget& b) {
    if (!b.applies) return "descriptors: " + std::to_string(b.needed) + " needed; no per-process limit to raise";
    std::string s = "descriptors: " + std::to_string(b.needed) + " needed for the configured max_connections";
    if (b.raised())
        s += "; soft limit raised from " + std::to_string(b.before) + " to " + std::to_string(b.limit);
    else
        s += "; limit " + std::to_string(b.limit);
    if (!b.enough())
        s += ", but the hard limit is " + std::to_string(b.hard) + ": connections beyond about " +
             std::to_string(b.limit > descriptor_reserve ? (b.limit - descriptor_reserve) / 2 : 0) +
             " will be refused. Raise the hard limit (systemd: LimitNOFILE=" + std::to_string(b.needed) +
             "; a shell: ulimit -Hn as root) or lower max_connections";
    return s;
}

}  // namespace tlsbroker::core
