#include "service/windows/perf_layout.hpp"

#include <array>
#include <string>

namespace tlsbroker::service::perf_layout {

namespace {

std::string spaced(const char* key) {
    std::string s = key;
    for (auto& c : s)
        if (c == '_') c = ' ';
    return s;
}

struct rate {
    core::counter value;
    perf_type type;
};

constexpr std::array<rate, 11> rates{{
    {core::counter::connections_accepted, perf_type::counter},
    {core::counter::handshakes_ok, perf_type::counter},
    {core::counter::handshakes_failed, perf_type::counter},
    {core::counter::handshakes_timeout, perf_type::counter},
    {core::counter::bytes_client_to_backend, perf_type::bulk_count},
    {core::counter::bytes_backend_to_client, perf_type::bulk_count},
    {core::counter::accept_errors_connection, perf_type::counter},
    {core::counter::accept_errors_resource, perf_type::counter},
    {core::counter::accept_errors_listener, perf_type::counter},
    {core::counter::timeouts_idle, perf_type::counter},
    {core::counter::timeouts_write_stall, perf_type::counter},
}};

std::vector<perf_counter> build() {
    std::vector<perf_counter> v;
    for (const auto& c : core::counter_table()) {
        const bool age = c.kind == core::counter_kind::timestamp;
        v.push_back({static_cast<std::uint32_t>(c.id), c.key, spaced(c.key), perf_type::large_rawcount, c.id,
                     age ? source::age_seconds : source::value, 8});
    }
    std::uint32_t id = rate_base;
    for (const auto& r : rates) {
        const char* key = core::info(r.value).key;
        v.push_back({id++, std::string(key) + "_per_sec", spaced(key) + "/sec", r.type, r.value, source::value,
                     r.type == perf_type::bulk_count ? 8u : 4u});
    }
    // Averaging pairs; `value` is unused for them (the provider keeps their cells).
    using h = core::histogram;
    const auto pair = [&](std::uint32_t at, const char* key, const std::vector<h>& of) {
        v.push_back({at, key, spaced(key), perf_type::average_timer, core::counter::connections_accepted,
                     source::average_sum, 4, of, at + 1});
        v.push_back({at + 1, std::string(key) + "_base", spaced(key) + " base", perf_type::average_base,
                     core::counter::connections_accepted, source::average_count, 4, of, 0});
    };
    pair(average_base, "handshake_time", {h::handshake_full, h::handshake_resumed});
    pair(average_base + 2, "backend_connect_time", {h::backend_connect});
    return v;
}

}  // namespace

const char* manifest_type(perf_type t) {
    switch (t) {
        case perf_type::large_rawcount:
            return "perf_counter_large_rawcount";
        case perf_type::counter:
            return "perf_counter_counter";
        case perf_type::bulk_count:
            return "perf_counter_bulk_count";
        case perf_type::average_timer:
            return "perf_average_timer";
        case perf_type::average_base:
            return "perf_average_base";
    }
    return "";
}

const std::vector<perf_counter>& counters() {
    static const std::vector<perf_counter> table = build();
    return table;
}

std::uint64_t ticks(std::uint64_t microseconds, std::uint64_t frequency) {
    // Split so that a large sum times a 10 MHz frequency does not overflow 64 bits.
    return microseconds / 1'000'000 * frequency + microseconds % 1'000'000 * frequency / 1'000'000;
}

std::int64_t age_seconds(std::uint64_t stamp_unix_ms, std::uint64_t now_unix_ms) {
    if (stamp_unix_ms == 0) return -1;
    if (now_unix_ms <= stamp_unix_ms) return 0;
    return static_cast<std::int64_t>((now_unix_ms - stamp_unix_ms) / 1000);
}

}  // namespace tlsbroker::service::perf_layout
