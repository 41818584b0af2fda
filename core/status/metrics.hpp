// Rendering of the counters for operators: the /status JSON and the Prometheus text
// exposition (format 0.0.4) served at /metrics, written through prometheus_text. Both are
// pure functions of a snapshot view and the current time, so they are tested with hand-built
// counter blocks.
//
// Rules (names, labels, kinds and units come from counter_table()):
// - /status shows raw values under each counter's key, except timestamps, which become an
//   age in seconds ("last_accept_age_seconds": 1.5; -1 when it never happened).
// - /status shows, per listener with a watchdog, "watchdog": {"last_probe": ok|slow|stalled|
//   none, "probes": {"ok", "slow", "failed"}, "outcomes": {outcome: what it means}}.
// - /metrics lists each family once with # HELP and # TYPE (counter for totals, gauge for
//   gauges and ages). Listener-scope samples carry listener="name" followed by the counter's
//   own label; broker-scope samples carry no listener label. Sources kept in µs or ms are
//   published in seconds. Extra families: tlsbroker_build_info{version}, tlsbroker_uptime_seconds,
//   tlsbroker_listener_max_connections{listener}, tlsbroker_listener_state{listener,state}.
// - Histograms (histogram_table()) are Prometheus histograms per listener, in seconds or
//   bytes; /status shows per listener "latency": {"window_s", <key>: {"count", "p50", "p90",
//   "p99"}} over the last minute (histogram.hpp says how; a quantile is null without
//   observations).
// - With broker_view::process, the process_* families of the Prometheus client libraries
//   (process_open_fds, process_max_fds, process_resident_memory_bytes,
//   process_cpu_seconds_total, process_start_time_seconds); each only when the platform
//   gives its value.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/accept/listener_state.hpp"
#include "core/common/counters.hpp"
#include "core/common/histogram.hpp"
#include "core/common/process_stats.hpp"
#include "core/status/prometheus_text.hpp"

namespace tlsbroker::core {

struct listener_view {
    std::string name;
    std::string listen;
    std::string state;
    const counter_block* counters = nullptr;  // null: an empty "counters" object, no samples
    std::uint64_t max_connections = 0;
    // The watchdog's last probe verdict; /status shows a "watchdog" object (the verdict, the
    // probe counts by result and what each outcome means) when the watchdog is on.
    bool watchdog_on = false;
    probe_outcome last_probe = probe_outcome::none;
    nlohmann::json extra = nlohmann::json::object();  // merged into the listener's object
    // null: no histogram samples and no "latency" object
    const histogram_block* histograms = nullptr;
};

struct broker_view {
    std::string version;
    std::uint64_t started_unix_ms = 0;
    bool healthy = false;
    std::string health_reason;
    std::vector<listener_view> listeners;
    const counter_block* total = nullptr;             // null: an empty "total", no broker-scope samples
    nlohmann::json extra = nlohmann::json::object();  // merged into the top-level object
    std::optional<process_stats> process{};           // /metrics only: the process_* families
};

nlohmann::json render_status(const broker_view& view, std::uint64_t now_unix_ms);
std::string render_prometheus(const broker_view& view, std::uint64_t now_unix_ms);

// One backend of one listener, for /metrics: tlsbroker_backend_up (gauge),
// tlsbroker_backend_connects_total{result=ok|failed} and tlsbroker_backend_marked_down_total,
// each with listener="..." and backend="host:port".
struct backend_view {
    std::string listener;
    std::string address;
    bool up = true;
    std::uint64_t connects_ok = 0;
    std::uint64_t connects_failed = 0;
    std::uint64_t marked_down = 0;
};
std::string render_backend_prometheus(const std::vector<backend_view>& backends);

// Seconds since `stamp_unix_ms` (0 when `now` is earlier), or -1 when `stamp` is 0 (never).
double age_seconds(std::uint64_t stamp_unix_ms, std::uint64_t now_unix_ms);

}  // namespace tlsbroker::core
