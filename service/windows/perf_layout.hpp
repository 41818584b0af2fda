// The counters the Windows perf provider publishes, in manifest order (installer/tlsbroker.man),
// as a pure table so a Linux unit test checks the manifest and the collector set against it.
//
// - ids 0 … counter_count-1: every core counter raw (PERF_COUNTER_LARGE_RAWCOUNT), by reference
//   to the live atomics; except the timestamps ("last accept age seconds", "resources exhausted
//   age seconds"), which hold seconds since their stamp (-1 before the first), computed once a
//   second by the provider.
// - ids rate_base …: per-second rates over the same atomics (PERF_COUNTER_COUNTER for counts,
//   PERF_COUNTER_BULK_COUNT for bytes): perfmon divides the change between two samples by the
//   time between them, so a graph shows accepts/s instead of a rising total. A fixed base keeps
//   their ids stable when core counters are added.
// - ids average_base …: averaging pairs (PERF_AVERAGE_TIMER, then its PERF_AVERAGE_BASE) for
//   the handshake time (full and resumed together) and the backend connect time, from the
//   listener's histograms (core/common/histogram.hpp): the timer holds the histograms' sum in
//   ticks of the performance counter frequency, the base their count, so perfmon shows the
//   average time per operation between two samples. Both are kept by the provider (refreshed
//   once a second), not by reference to the histogram atomics, which count microseconds.
#pragma once

#include <cstdint>
#include <vector>

#include "core/common/counters.hpp"
#include "core/common/histogram.hpp"

namespace tlsbroker::service::perf_layout {

// winperf.h values.
enum class perf_type : std::uint32_t {
    large_rawcount = 0x00010100,  // PERF_COUNTER_LARGE_RAWCOUNT
    counter = 0x10410400,         // PERF_COUNTER_COUNTER (32-bit, per second)
    bulk_count = 0x10410500,      // PERF_COUNTER_BULK_COUNT (64-bit, per second)
    average_timer = 0x30020400,   // PERF_AVERAGE_TIMER (32-bit ticks, seconds per operation)
    average_base = 0x40030402,    // PERF_AVERAGE_BASE (32-bit, operations)
};

enum class source {
    value,          // the counter_block atomic itself
    age_seconds,    // seconds since the timestamp in that atomic, kept by the provider
    average_sum,    // sum of `histograms` in performance-counter ticks, kept by the provider
    average_count,  // count of `histograms`, kept by the provider
};

struct perf_counter {
    std::uint32_t id;      // manifest counter id
    std::string uri_stem;  // manifest uri after "tlsbroker.TLSBroker."
    std::string name;      // what perfmon shows
    perf_type type;
    core::counter value;  // the atomic it reads (or derives from)
    source from;
    std::uint32_t size;                         // bytes perfmon reads at the address: 4 or 8
    std::vector<core::histogram> histograms{};  // average_sum / average_count: what they add up
    std::uint32_t base_id = 0;                  // average_timer: the id of its base counter
};

inline constexpr std::uint32_t rate_base = 100;
inline constexpr std::uint32_t average_base = 200;

// The manifest's type string for a perf_type ("perf_counter_counter", …).
const char* manifest_type(perf_type t);

const std::vector<perf_counter>& counters();

// Microseconds as ticks of a `frequency` Hz performance counter (QueryPerformanceFrequency).
std::uint64_t ticks(std::uint64_t microseconds, std::uint64_t frequency);

// Seconds since `stamp_unix_ms` (whole seconds), -1 when it never happened.
std::int64_t age_seconds(std::uint64_t stamp_unix_ms, std::uint64_t now_unix_ms);

}  // namespace tlsbroker::service::perf_layout
