#include "core/common/log_event.hpp"

#include <algorithm>
#include <cassert>

#include "core/common/log.hpp"

namespace tlsbroker::log {

namespace {

// The contract for Event Log rules: service/README.md "Event Log" lists the same; the test
// unit.log_event_catalog checks this table against service/windows/messages.mc.
const std::vector<event_info>& catalog() {
    static const std::vector<event_info> all = {
        {event::service_started, "service_started", category::service, level::info, {"version", "config"}},
        {event::service_stopped, "service_stopped", category::service, level::info, {"exit_code"}},
        {event::service_start_failed, "service_start_failed", category::service, level::error, {"exit_code", "reason"}},
        {event::listener_bound, "listener_bound", category::listener, level::info, {"listener", "address"}},
        {event::listener_stalled, "listener_stalled", category::listener, level::error, {"listener", "reason", "step"}},
        {event::listener_healed, "listener_healed", category::listener, level::warning, {"listener", "step"}},
        {event::listener_gave_up, "listener_gave_up", category::listener, level::error, {"listener", "reason"}},
        {event::reload_applied, "reload_applied", category::configuration, level::warning, {"summary"}},
        {event::reload_rejected,
         "reload_rejected",
         category::configuration,
         level::error,
         {"source", "count", "problems"}},
        {event::config_warning, "config_warning", category::configuration, level::warning, {"warning"}},
        {event::acl_warning, "acl_warning", category::configuration, level::warning, {"warning"}},
        {event::certificate_expiring,
         "certificate_expiring",
         category::certificate,
         level::warning,
         {"listener", "certificate", "days", "not_after"}},
        {event::certificate_expired,
         "certificate_expired",
         category::certificate,
         level::error,
         {"listener", "certificate", "not_after"}},
        {event::certificate_switched,
         "certificate_switched",
         category::certificate,
         level::warning,
         {"listener", "old", "new"}},
        {event::backend_down,
         "backend_down",
         category::backend,
         level::error,
         {"listener", "backend", "failures", "cooldown_ms"}},
        {event::backend_up, "backend_up", category::backend, level::warning, {"listener", "backend"}},
        {event::descriptor_capacity_reached,
         "descriptor_capacity_reached",
         category::capacity,
         level::error,
         {"listener", "error", "backoff_ms"}},
        {event::connection_limit_reached,
         "connection_limit_reached",
         category::capacity,
         level::warning,
         {"listener", "max_connections"}},
    };
    return all;
}

}  // namespace

std::span<const event_info> event_catalog() { return catalog(); }

const event_info* find(event e) {
    const auto& all = catalog();
    const auto it = std::find_if(all.begin(), all.end(), [e](const event_info& i) { return i.type == e; });
    return it == all.end() ? nullptr : &*it;
}

tags event_tags(event e, std::initializer_list<event_arg> args) {
    tags t;
    t.type = e;
    const auto* info = find(e);
    if (info == nullptr) return t;
    t.strings.assign(info->strings.size(), "-");
    for (const auto& a : args) {
        const auto it = std::find(info->strings.begin(), info->strings.end(), a.name);
        assert(it != info->strings.end() && "insertion string not in the event catalog");
        if (it != info->strings.end()) t.strings[static_cast<std::size_t>(it - info->strings.begin())] = a.value;
    }
    return t;
}

}  // namespace tlsbroker::log
