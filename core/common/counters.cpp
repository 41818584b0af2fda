#include "counters.hpp"

#include <algorithm>
#include <chrono>
#include <string_view>

namespace tlsbroker::core {

namespace {

using k = counter_kind;
using s = counter_scope;
using u = counter_unit;

constexpr std::array<counter_info, counter_count> table{{
    {counter::connections_accepted, "connections_accepted", "tlsbroker_connections_accepted_total", "",
     "Client connections accepted (probes excluded).", k::total, s::listener},
    {counter::connections_active, "connections_active", "tlsbroker_connections_active", "",
     "Client connections open now.", k::gauge, s::listener},
    {counter::rejected_at_limit, "rejected_at_limit", "tlsbroker_connections_rejected_total", "reason=\"limit\"",
     "Connections refused or closed without service, by reason.", k::total, s::listener},
    {counter::rejected_sockopt, "rejected_sockopt", "tlsbroker_connections_rejected_total", "reason=\"socket_option\"",
     "Connections refused or closed without service, by reason.", k::total, s::listener},
    {counter::handshakes_in_progress, "handshakes_in_progress", "tlsbroker_handshakes_in_progress", "",
     "TLS handshakes under way.", k::gauge, s::listener},
    {counter::handshakes_ok, "handshakes_ok", "tlsbroker_handshakes_total", "result=\"ok\"",
     "TLS handshakes finished, by result.", k::total, s::listener},
    {counter::handshakes_failed, "handshakes_failed", "tlsbroker_handshakes_total", "result=\"failed\"",
     "TLS handshakes finished, by result.", k::total, s::listener},
    {counter::handshakes_timeout, "handshakes_timeout", "tlsbroker_handshakes_total", "result=\"timeout\"",
     "TLS handshakes finished, by result.", k::total, s::listener},
    {counter::timeouts_idle, "timeouts_idle", "tlsbroker_timeouts_total", "kind=\"idle\"",
     "Connections closed by a timeout, by kind.", k::total, s::listener},
    {counter::timeouts_write_stall, "timeouts_write_stall", "tlsbroker_timeouts_total", "kind=\"write_stall\"",
     "Connections closed by a timeout, by kind.", k::total, s::listener},
    {counter::timeouts_half_close, "timeouts_half_close", "tlsbroker_timeouts_total", "kind=\"half_close\"",
     "Connections closed by a timeout, by kind.", k::total, s::listener},
    {counter::timeouts_drain, "timeouts_drain", "tlsbroker_timeouts_total", "kind=\"drain\"",
     "Connections closed by a timeout, by kind.", k::total, s::listener},
    {counter::backend_connect_failures, "backend_connect_failures", "tlsbroker_backend_connect_failures_total", "",
     "Backend connects that failed or timed out.", k::total, s::listener},
    {counter::accept_errors_connection, "accept_errors_connection", "tlsbroker_accept_errors_total",
     "class=\"connection\"", "Accept errors, by class.", k::total, s::listener},
    {counter::accept_errors_resource, "accept_errors_resource", "tlsbroker_accept_errors_total", "class=\"resource\"",
     "Accept errors, by class.", k::total, s::listener},
    {counter::accept_errors_listener, "accept_errors_listener", "tlsbroker_accept_errors_total", "class=\"listener\"",
     "Accept errors, by class.", k::total, s::listener},
    {counter::accept_pauses, "accept_pauses", "tlsbroker_accept_pauses_total", "",
     "Times the listener paused accepting (connection limit or back-off).", k::total, s::listener},
    {counter::accept_resumes, "accept_resumes", "tlsbroker_accept_resumes_total", "",
     "Times the listener resumed accepting after a pause.", k::total, s::listener},
    {counter::listener_recreations, "listener_recreations", "tlsbroker_listener_recreations_total", "",
     "Listening sockets closed and created again.", k::total, s::listener},
    {counter::bytes_client_to_backend, "bytes_client_to_backend", "tlsbroker_bytes_total",
     "direction=\"client_to_backend\"", "Relayed plaintext bytes, by direction.", k::total, s::listener},
    {counter::bytes_backend_to_client, "bytes_backend_to_client", "tlsbroker_bytes_total",
     "direction=\"backend_to_client\"", "Relayed plaintext bytes, by direction.", k::total, s::listener},
    {counter::last_accept_unix_ms, "last_accept_age_seconds", "tlsbroker_last_accept_age_seconds", "",
     "Seconds since the last accepted connection (probes included); -1 before the first.", k::timestamp, s::listener,
     u::milliseconds},
    {counter::probes_ok, "watchdog_probes_ok", "tlsbroker_watchdog_probes_total", "result=\"ok\"",
     "Watchdog canary probes, by result.", k::total, s::listener},
    {counter::probes_failed, "watchdog_probes_failed", "tlsbroker_watchdog_probes_total", "result=\"failed\"",
     "Watchdog canary probes, by result.", k::total, s::listener},
    {counter::accept_stalls, "accept_stalls", "tlsbroker_accept_stalls_total", "",
     "Stalled accept paths detected by the watchdog.", k::total, s::listener},
    {counter::invariant_violations, "accept_invariant_violations", "tlsbroker_accept_invariant_violations_total", "",
     "Checks that found an accepting listener with no accept outstanding and no timer pending.", k::total, s::listener},
    {counter::recoveries_rearm, "watchdog_recoveries_rearm", "tlsbroker_watchdog_recoveries_total", "step=\"rearm\"",
     "Watchdog recovery steps taken, by step.", k::total, s::listener},
    {counter::recoveries_recreate, "watchdog_recoveries_recreate", "tlsbroker_watchdog_recoveries_total",
     "step=\"recreate\"", "Watchdog recovery steps taken, by step.", k::total, s::listener},
    {counter::recoveries_unrecoverable, "watchdog_recoveries_unrecoverable", "tlsbroker_watchdog_recoveries_total",
     "step=\"unrecoverable\"", "Watchdog recovery steps taken, by step.", k::total, s::listener},
    {counter::accept_queue_depth, "accept_queue_depth", "tlsbroker_accept_queue_depth", "",
     "Connections waiting in the kernel accept queue (where the OS reports it).", k::gauge, s::listener},
    {counter::probe_latency_us, "watchdog_probe_latency_us", "tlsbroker_watchdog_probe_latency_seconds", "",
     "Latency of the last successful canary probe.", k::gauge, s::listener, u::microseconds},
    {counter::event_loop_stalls, "event_loop_stalls", "tlsbroker_event_loop_stalls_total", "",
     "Heartbeats that ran later than the bound (a handler blocked the loop).", k::total, s::broker},
    {counter::event_loop_max_block_ms, "event_loop_max_block_ms", "tlsbroker_event_loop_max_block_seconds", "",
     "Longest heartbeat delay seen.", k::gauge, s::broker, u::milliseconds},
    {counter::healthy, "healthy", "tlsbroker_healthy", "", "1 when every accept path is healthy.", k::gauge, s::broker},
    {counter::rejected_source_limit, "rejected_source_limit", "tlsbroker_connections_rejected_total",
     "reason=\"per_source_limit\"", "Connections refused or closed without service, by reason.", k::total, s::listener},
    {counter::rejected_source_rate, "rejected_source_rate", "tlsbroker_connections_rejected_total",
     "reason=\"per_source_rate\"", "Connections refused or closed without service, by reason.", k::total, s::listener},
    {counter::reloads_ok, "reloads_ok", "tlsbroker_reloads_total", "result=\"ok\"", "Configuration reloads, by result.",
     k::total, s::broker},
    {counter::reloads_failed, "reloads_failed", "tlsbroker_reloads_total", "result=\"failed\"",
     "Configuration reloads, by result.", k::total, s::broker},
    {counter::probes_slow, "watchdog_probes_slow", "tlsbroker_watchdog_probes_total", "result=\"slow\"",
     "Watchdog canary probes, by result.", k::total, s::listener},
    {counter::certificate_expiry_days, "certificate_expiry_days", "tlsbroker_certificate_expiry_days_min", "",
     "Whole days until the soonest of the listener's certificates expires (0 once expired); the total is the "
     "soonest of all.",
     k::gauge, s::listener},
    {counter::certificate_reloads_ok, "certificate_reloads_ok", "tlsbroker_certificate_reloads_total", "result=\"ok\"",
     "Changed certificate, key, CA or CRL files picked up without a reload, by result.", k::total, s::broker},
    {counter::certificate_reloads_failed, "certificate_reloads_failed", "tlsbroker_certificate_reloads_total",
     "result=\"failed\"", "Changed certificate, key, CA or CRL files picked up without a reload, by result.", k::total,
     s::broker},
    {counter::certificate_expiry_warnings, "certificate_expiry_warnings", "tlsbroker_certificate_expiry_warnings_total",
     "", "Expiry warnings logged (30, 14, 7 and 1 days before, and at expiry; once each per certificate).", k::total,
     s::broker},
    {counter::crl_loads_ok, "crl_loads_ok", "tlsbroker_crl_loads_total", "result=\"loaded\"",
     "CRL files loaded (at start, reload or when changed), by result.", k::total, s::broker},
    {counter::crl_loads_failed, "crl_loads_failed", "tlsbroker_crl_loads_total", "result=\"failed\"",
     "CRL files loaded (at start, reload or when changed), by result.", k::total, s::broker},
    {counter::crl_stale, "crl_stale", "tlsbroker_crl_stale_total", "",
     "Times a CRL in use passed its nextUpdate with no newer file to load.", k::total, s::broker},
    // Failure handling and hardening (#13).
    {counter::backend_resolve_failures, "backend_resolve_failures", "tlsbroker_backend_resolve_failures_total", "",
     "Backend name lookups that failed or found no address (the last good addresses stay in use).", k::total,
     s::listener},
    {counter::client_truncated, "client_truncated", "tlsbroker_client_truncated_total", "",
     "Client streams that ended after the handshake without TLS close_notify (reset, error or bare TCP end).", k::total,
     s::listener},
    {counter::client_identity_refused, "client_identity_refused", "tlsbroker_client_identity_refused_total", "",
     "Client certificate names refused (NUL or control character, several common names).", k::total, s::listener},
    {counter::status_refused_origin, "status_refused_origin", "tlsbroker_status_refused_total", "reason=\"origin\"",
     "Status endpoint requests or connections refused, by reason.", k::total, s::broker},
    {counter::status_refused_host, "status_refused_host", "tlsbroker_status_refused_total", "reason=\"host\"",
     "Status endpoint requests or connections refused, by reason.", k::total, s::broker},
    {counter::status_refused_source, "status_refused_source", "tlsbroker_status_refused_total",
     "reason=\"connection_cap\"", "Status endpoint requests or connections refused, by reason.", k::total, s::broker},
    {counter::status_refused_reload, "status_refused_reload", "tlsbroker_status_refused_total",
     "reason=\"reload_rate\"", "Status endpoint requests or connections refused, by reason.", k::total, s::broker},
    {counter::rejected_proxy_untrusted, "rejected_proxy_untrusted", "tlsbroker_connections_rejected_total",
     "reason=\"proxy_untrusted\"", "Connections refused or closed without service, by reason.", k::total, s::listener},
    {counter::rejected_proxy_missing, "rejected_proxy_missing", "tlsbroker_connections_rejected_total",
     "reason=\"proxy_missing\"", "Connections refused or closed without service, by reason.", k::total, s::listener},
    {counter::rejected_proxy_invalid, "rejected_proxy_invalid", "tlsbroker_connections_rejected_total",
     "reason=\"proxy_invalid\"", "Connections refused or closed without service, by reason.", k::total, s::listener},
    {counter::rejected_proxy_timeout, "rejected_proxy_timeout", "tlsbroker_connections_rejected_total",
     "reason=\"proxy_timeout\"", "Connections refused or closed without service, by reason.", k::total, s::listener},
    {counter::proxy_headers_ok, "proxy_headers_ok", "tlsbroker_proxy_headers_total", "command=\"proxy\"",
     "PROXY headers accepted from trusted proxies, by command (local: a health check, the proxy's address kept).",
     k::total, s::listener},
    {counter::proxy_headers_local, "proxy_headers_local", "tlsbroker_proxy_headers_total", "command=\"local\"",
     "PROXY headers accepted from trusted proxies, by command (local: a health check, the proxy's address kept).",
     k::total, s::listener},
    {counter::status_accept_errors_connection, "status_accept_errors_connection",
     "tlsbroker_status_accept_errors_total", "class=\"connection\"", "Status endpoint accept errors, by class.",
     k::total, s::broker},
    {counter::status_accept_errors_resource, "status_accept_errors_resource", "tlsbroker_status_accept_errors_total",
     "class=\"resource\"", "Status endpoint accept errors, by class.", k::total, s::broker},
    {counter::status_accept_errors_listener, "status_accept_errors_listener", "tlsbroker_status_accept_errors_total",
     "class=\"listener\"", "Status endpoint accept errors, by class.", k::total, s::broker},
    {counter::status_refused_token, "status_refused_token", "tlsbroker_status_refused_total", "reason=\"token\"",
     "Status endpoint requests or connections refused, by reason.", k::total, s::broker},
    {counter::status_refused_reload_off, "status_refused_reload_off", "tlsbroker_status_refused_total",
     "reason=\"reload_off\"", "Status endpoint requests or connections refused, by reason.", k::total, s::broker},
    {counter::status_idle_closed, "status_idle_closed", "tlsbroker_status_idle_closed_total", "",
     "Status endpoint connections closed after status.idle_timeout_ms without a request.", k::total, s::broker},
    {counter::descriptors_needed, "descriptors_needed", "tlsbroker_descriptors_needed", "",
     "File descriptors the configuration needs (two per connection at max_connections, plus the listeners, the "
     "status endpoint and a reserve).",
     k::gauge, s::broker},
    {counter::descriptors_limit, "descriptors_limit", "tlsbroker_descriptors_limit", "",
     "The process's file descriptor limit in force (the soft RLIMIT_NOFILE; 0 where there is none).", k::gauge,
     s::broker},
    {counter::resources_exhausted_unix_ms, "resources_exhausted_age_seconds",
     "tlsbroker_resources_exhausted_age_seconds", "",
     "Seconds since a socket (accepted or to a backend) could not be opened for lack of file descriptors, buffers "
     "or memory; -1 before the first.",
     k::timestamp, s::listener, u::milliseconds},
    {counter::service_notify_failures, "service_notify_failures", "tlsbroker_service_notify_failures_total", "",
     "Messages to the service manager (systemd's NOTIFY_SOCKET) that could not be sent.", k::total, s::broker},
    {counter::service_heartbeats_withheld, "service_heartbeats_withheld", "tlsbroker_service_heartbeats_withheld_total",
     "",
     "Service manager watchdog heartbeats (WATCHDOG=1) withheld because an accept path was given up as "
     "unrecoverable.",
     k::total, s::broker},
    {counter::listener_degraded, "listener_degraded", "tlsbroker_listener_degraded", "",
     "1 while the listener serves a certificate that has expired or is not yet valid (it keeps serving it); the "
     "total is the number of such listeners.",
     k::gauge, s::listener},
    {counter::certificate_store_switches, "certificate_store_switches", "tlsbroker_certificate_store_switches_total",
     "",
     "Times a certificate store reference (tls.certificate_store) picked another certificate, a renewal, and new "
     "handshakes switched to it.",
     k::total, s::broker},
    {counter::key_sign_failures, "key_sign_failures", "tlsbroker_key_sign_failures_total", "",
     "Handshakes that failed because the private key, kept in the Windows certificate store, could not sign.", k::total,
     s::broker},
}};

constexpr bool table_in_order() {
    for (std::size_t i = 0; i < table.size(); ++i)
        if (static_cast<std::size_t>(table[i].id) != i) return false;
    return true;
}
static_assert(table_in_order(), "counter_table must list counters in enum order");

constexpr bool ends_with(std::string_view text, std::string_view tail) {
    return text.size() >= tail.size() && text.substr(text.size() - tail.size()) == tail;
}

// A "_seconds" family must say which unit its source is in (or be a timestamp, which is
// rendered as an age), so no raw microseconds are published as seconds.
constexpr bool seconds_have_units() {
    return std::ranges::none_of(
        table, [](const auto& c) { return ends_with(c.metric, "_seconds") && c.unit == counter_unit::none; });
}
static_assert(seconds_have_units(), "every _seconds metric needs a unit in counter_table");

}  // namespace

std::span<const counter_info, counter_count> counter_table() { return table; }

const counter_info& info(counter c) { return table[static_cast<std::size_t>(c)]; }

void counter_block::raise_to(counter c, std::uint64_t v) {
    auto& a = at(c);
    auto cur = a.load(std::memory_order_relaxed);
    while (cur < v && !a.compare_exchange_weak(cur, v, std::memory_order_relaxed)) {
    }
}

void counters::set(counter c, std::uint64_t v) {
    const auto old = own_->at(c).exchange(v, std::memory_order_relaxed);
    if (info(c).kind == counter_kind::timestamp)
        total_->raise_to(c, v);
    else if (v >= old)
        total_->add(c, v - old);
    else
        total_->sub(c, old - v);
}

std::uint64_t unix_ms_now() {
    using namespace std::chrono;
    return static_cast<std::uint64_t>(duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count());
}

}  // namespace tlsbroker::core
