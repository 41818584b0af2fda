// Event types of log records: the lines an operator's rules key on (Event Log forwarding, SCOM,
// journal queries). A record may carry one event type and its insertion strings; the Windows
// Event Log sink (service/windows/event_log.cpp) reports it under the type's stable message ID
// (service/windows/messages.mc, the table in service/README.md "Event Log"), every other sink
// writes the line as usual. Records can also be marked per-client (a handshake failure, a
// reset, a refused status request): those never reach the Event Log, whatever their level.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace tlsbroker::log {

enum class level;

// The value is the message ID (Event Viewer's "Event ID"); IDs never change once shipped.
enum class event : std::uint16_t {
    none = 0,
    service_started = 100,
    service_stopped = 101,
    service_start_failed = 102,
    listener_bound = 200,
    listener_stalled = 201,
    listener_healed = 202,
    listener_gave_up = 203,
    reload_applied = 300,
    reload_rejected = 301,
    config_warning = 302,
    acl_warning = 303,
    certificate_expiring = 400,
    certificate_expired = 401,
    certificate_switched = 402,
    backend_down = 500,
    backend_up = 501,
    descriptor_capacity_reached = 600,
    connection_limit_reached = 601,
};

// Event Log categories (CategoryMessageFile; message IDs 1..category_count with severity
// Success in messages.mc, so they do not clash with the generic events 1, 2 and 3).
enum class category : std::uint16_t {
    none = 0,
    service = 1,
    listener = 2,
    configuration = 3,
    certificate = 4,
    backend = 5,
    capacity = 6,
    general = 7,
};
inline constexpr std::uint16_t category_count = 7;

// Who a record is about. Per-client records stay in the log file and counters; a detail line
// (one problem of a rejected reload) is written beside an event record that carries it, so
// the Event Log gets the event only.
enum class origin : std::uint8_t { broker, client, detail };

struct event_info {
    event type;
    const char* name;  // snake_case, as in the enum
    category cat;
    level severity;                         // the level the record is written at
    std::vector<std::string_view> strings;  // insertion strings %1, %2, ... by name
};

// Every event type except none, in ID order.
std::span<const event_info> event_catalog();
// The entry of `e`; nullptr for none or a value outside the catalog.
const event_info* find(event e);

// One named insertion string at a call site: {"listener", name}.
struct event_arg {
    std::string_view name;
    std::string value;
};

// What a record carries besides its level and text. Default: no event, about the broker.
struct tags {
    event type = event::none;
    std::vector<std::string> strings;  // in catalog order (%1 first)
    origin from = origin::broker;
    // JSON members for log.format "json" (log_json.hpp): written instead of "message".
    std::string fields{};
};

// The tags of an event record: `args` placed in catalog order by name; a catalog string that
// is not given is "-", a name the catalog does not know is left out (and fails the
// catalog test's call-site checks).
tags event_tags(event e, std::initializer_list<event_arg> args);
// The tags of a per-client record (no event type).
inline tags client() { return tags{event::none, {}, origin::client}; }

// Generic message IDs of a warning/error line with no event type (and of an info line, which
// the Event Log does not receive).
inline constexpr std::uint16_t generic_info_id = 1;
inline constexpr std::uint16_t generic_warning_id = 2;
inline constexpr std::uint16_t generic_error_id = 3;

}  // namespace tlsbroker::log
