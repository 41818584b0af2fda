// The broker's counters: one block of atomics per listener and one for the total.
// Every published view (status JSON, Prometheus text, Windows perf counters) is rendered
// from counter_table(), so a counter is named once, here and in counters.cpp.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <span>

namespace tlsbroker::core {

enum class counter : std::size_t {
    connections_accepted,
    connections_active,
    rejected_at_limit,
    rejected_sockopt,
    handshakes_in_progress,
    handshakes_ok,
    handshakes_failed,
    handshakes_timeout,
    timeouts_idle,
    timeouts_write_stall,
    timeouts_half_close,
    timeouts_drain,
    backend_connect_failures,
    accept_errors_connection,
    accept_errors_resource,
    accept_errors_listener,
    accept_pauses,
    accept_resumes,
    listener_recreations,
    bytes_client_to_backend,
    bytes_backend_to_client,
    last_accept_unix_ms,
    probes_ok,
    probes_failed,
    accept_stalls,
    invariant_violations,
    recoveries_rearm,
    recoveries_recreate,
    recoveries_unrecoverable,
    accept_queue_depth,
    probe_latency_us,
    event_loop_stalls,
    event_loop_max_block_ms,
    healthy,
    rejected_source_limit,
    rejected_source_rate,
    reloads_ok,
    reloads_failed,
    probes_slow,              // a canary not taken in time while accepts completed: overload, not a stall
    certificate_expiry_days,  // whole days until the listener's soonest certificate expires
    certificate_reloads_ok,   // changed certificate/key/CA/CRL files picked up (cert_watch)
    certificate_reloads_failed,
    certificate_expiry_warnings,
    crl_loads_ok,
    crl_loads_failed,
    crl_stale,  // a CRL in use passed its nextUpdate with no newer file to load
    // Failure handling and hardening (#13).
    backend_resolve_failures,  // a backend name lookup that failed or found nothing
    client_truncated,          // a client stream ended after the handshake without close_notify
    client_identity_refused,   // a client certificate name refused (NUL, control char, several CNs)
    status_refused_origin,     // status endpoint: 403, the request came with an Origin header
    status_refused_host,       // status endpoint: 421, Host is a name other than localhost
    status_refused_source,     // status endpoint: connection closed at the per-source or total cap
    status_refused_reload,     // status endpoint: 429, a reload runs or one ran under a second ago
    // accept_proxy: connections refused over the PROXY header they sent or did not send
    rejected_proxy_untrusted,  // a header from a source not in trusted_proxies
    rejected_proxy_missing,    // a trusted proxy sent no header
    rejected_proxy_invalid,    // malformed, truncated, too long, or a version not accepted
    rejected_proxy_timeout,    // no complete header within timeouts.handshake_ms
    proxy_headers_ok,          // headers accepted that named a client
    proxy_headers_local,       // LOCAL headers (a balancer's health check): the proxy's address kept
    // The status endpoint's accept errors, by class (its accept loop is the listeners').
    status_accept_errors_connection,  // the peer's problem: accepting again at once
    status_accept_errors_resource,    // out of descriptors, buffers or memory: backing off
    status_accept_errors_listener,    // its listening socket broke: re-created
    // Status endpoint access (#27).
    status_refused_token,       // 401: a read or a reload without its bearer token, or a wrong one
    status_refused_reload_off,  // 403: POST /reload while no status.reload_token_file is set
    status_idle_closed,         // a connection that sent no request for status.idle_timeout_ms, closed
    // File descriptors (descriptor_budget.hpp): what the config needs, the limit in force, and
    // when a listener last could not open a socket (accept or backend) for lack of descriptors,
    // buffers or memory.
    descriptors_needed,
    descriptors_limit,
    resources_exhausted_unix_ms,
    // The service manager (systemd's notify socket on Linux): messages that could not be sent,
    // and watchdog heartbeats withheld because an accept path was given up as unrecoverable.
    service_notify_failures,
    service_heartbeats_withheld,
    // 1 while the listener serves a certificate outside its validity period (#28).
    listener_degraded,
    // A certificate store reference (tls.certificate_store) picked another certificate (#28).
    certificate_store_switches,
    // A handshake failed because its private key (kept in the certificate store) could not sign (#28).
    key_sign_failures,
    count_
};

inline constexpr std::size_t counter_count = static_cast<std::size_t>(counter::count_);

enum class counter_kind : std::uint8_t {
    total,      // only goes up
    gauge,      // goes up and down
    timestamp,  // unix milliseconds; rendered as an age in seconds
};

enum class counter_scope : std::uint8_t {
    listener,  // kept per listener and summed into the total block
    broker,    // kept in the total block only (event loop, health)
};

// The unit a value is kept in. Prometheus families ending in "_seconds" are published in
// seconds: their samples are the raw value times seconds_per_unit(unit). The status JSON
// shows the raw value (its key names the unit, e.g. "watchdog_probe_latency_us").
enum class counter_unit : std::uint8_t {
    none,  // a count, bytes, or a 0/1 flag: published as is
    microseconds,
    milliseconds,  // timestamps are unix milliseconds (see counter_kind::timestamp)
};

constexpr double seconds_per_unit(counter_unit u) {
    switch (u) {
        case counter_unit::microseconds:
            return 1e-6;
        case counter_unit::milliseconds:
            return 1e-3;
        case counter_unit::none:
            return 1.0;
    }
    return 1.0;
}

struct counter_info {
    counter id;
    const char* key;     // status JSON key and perf-counter name stem
    const char* metric;  // Prometheus family name
    const char* label;   // extra label inside {}, e.g. result="ok"; "" for none
    const char* help;
    counter_kind kind;
    counter_scope scope;
    counter_unit unit = counter_unit::none;
};

// One entry per counter, in enum order.
std::span<const counter_info, counter_count> counter_table();
const counter_info& info(counter c);

// The live values. Layout is fixed (an array of 64-bit atomics) because the Windows perf
// provider publishes them by reference.
struct alignas(64) counter_block {
    std::array<std::atomic<std::uint64_t>, counter_count> values{};

    void add(counter c, std::uint64_t n = 1) { at(c).fetch_add(n, std::memory_order_relaxed); }
    void sub(counter c, std::uint64_t n = 1) { at(c).fetch_sub(n, std::memory_order_relaxed); }
    void set(counter c, std::uint64_t v) { at(c).store(v, std::memory_order_relaxed); }
    std::uint64_t get(counter c) const { return at(c).load(std::memory_order_relaxed); }
    void raise_to(counter c, std::uint64_t v);  // set to max(current, v)

    std::atomic<std::uint64_t>& at(counter c) { return values[static_cast<std::size_t>(c)]; }
    const std::atomic<std::uint64_t>& at(counter c) const { return values[static_cast<std::size_t>(c)]; }
};

// A listener's handle: every change goes to its own block and to the total.
class counters {
public:
    counters(counter_block& own, counter_block& total) : own_(&own), total_(&total) {}

    void add(counter c, std::uint64_t n = 1) {
        own_->add(c, n);
        total_->add(c, n);
    }
    void sub(counter c, std::uint64_t n = 1) {
        own_->sub(c, n);
        total_->sub(c, n);
    }
    void set(counter c, std::uint64_t v);  // gauges and timestamps: total is recomputed
    std::uint64_t get(counter c) const { return own_->get(c); }
    counter_block& own() { return *own_; }
    counter_block& total() { return *total_; }

private:
    counter_block* own_;
    counter_block* total_;
};

std::uint64_t unix_ms_now();

}  // namespace tlsbroker::core
