// File descriptors: how many the configuration needs, and making the process's limit fit.
// A relayed connection holds two (the client's socket and the backend's), so a listener at
// max_connections holds 2 × max_connections; each listener holds its listening socket (two
// for a moment while one is re-created or handed over), the status endpoint a few, and the
// process a reserve (log files, event loops, name lookups, the watchdog's canaries).
//
// Linux gives a service a soft limit of 1,024 by default (a shell, and systemd without
// LimitNOFILE=), with a much higher hard limit. So at start and at each reload the broker
// raises its soft limit to what the config needs, up to the hard limit, as HAProxy does from
// maxconn; when even the hard limit is too low it says so once, with the fix. Windows has no
// such per-process limit for sockets: there the budget is reported, and nothing is raised.
#pragma once

#include <cstdint>
#include <string>

#include "config/config.hpp"

namespace tlsbroker::core {

// Descriptors besides the connections: log files, event loops, resolver, canaries, stdio.
inline constexpr std::uint64_t descriptor_reserve = 64;
// The status endpoint's connections at most (its guard caps them well below this).
inline constexpr std::uint64_t status_descriptors = 32;

std::uint64_t descriptors_needed(const config::broker_config& cfg);

struct descriptor_budget {
    bool applies = false;  // the platform has a per-process limit (POSIX)
    std::uint64_t needed = 0;
    std::uint64_t before = 0;  // the soft limit found
    std::uint64_t limit = 0;   // the soft limit now in force
    std::uint64_t hard = 0;
    bool enough() const { return !applies || limit >= needed; }
    bool raised() const { return limit > before; }
};

// Raises the soft limit to `needed`, never above the hard limit, never lowering it.
descriptor_budget fit_descriptor_limit(std::uint64_t needed);

// One line for the log: what was found, what was done, and (when short) the fix.
std::string describe(const descriptor_budget& b);

}  // namespace tlsbroker::core
