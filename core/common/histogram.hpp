// Latency and size histograms, one block per listener. Updating one is lock-free: an
// observation is two relaxed atomic increments (its bucket and the sum) in the listener's
// block, so the hot path takes no mutex. Every published view (/metrics as Prometheus
// histograms, /status as quantiles over the last minute) is rendered from histogram_table(),
// as the counters are from counter_table().
//
// The last minute: a timer calls tick() every 10 s, which copies the cumulative bucket counts
// into a ring of 6 snapshots (under a mutex only tick() and the readers take). A window is
// the current counts minus the oldest snapshot, so it covers the last 50 to 60 s (reported
// as window_s); before six ticks it reaches back to the block's creation. Quantiles
// interpolate linearly inside the bucket the rank falls in, as Prometheus's
// histogram_quantile() does, so they are as precise as the buckets.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <span>

namespace tlsbroker::core {

enum class histogram : std::size_t {
    handshake_full,     // accept to finished handshake (a PROXY header's read included), full
    handshake_resumed,  // the same, for a resumed session
    backend_connect,    // finished handshake to a connected backend (every address tried)
    session_duration,   // accept to close, for sessions that reached the relay
    session_bytes,      // plaintext bytes relayed both ways, for sessions that reached the relay
    count_
};

inline constexpr std::size_t histogram_count = static_cast<std::size_t>(histogram::count_);
inline constexpr std::size_t histogram_max_bounds = 16;

enum class histogram_unit : std::uint8_t { microseconds, milliseconds, bytes };

// What one raw value is in the family's published unit: seconds, or bytes.
constexpr double histogram_divisor(histogram_unit u) {
    return u == histogram_unit::microseconds ? 1e6 : u == histogram_unit::milliseconds ? 1e3 : 1.0;
}

struct histogram_info {
    histogram id;
    const char* key;     // /status key, unit included ("handshake_full_seconds")
    const char* metric;  // Prometheus family name
    const char* label;   // extra label inside {}, e.g. kind="full"; "" for none
    const char* help;
    histogram_unit unit;                    // the unit observations and bounds are kept in
    std::span<const std::uint64_t> bounds;  // upper bounds of the buckets, ascending; +Inf is implied
};

// One entry per histogram, in enum order.
std::span<const histogram_info, histogram_count> histogram_table();
const histogram_info& info(histogram h);

// The bucket an observation falls in: the first bound it does not exceed, or bounds.size().
std::size_t bucket_of(std::span<const std::uint64_t> bounds, std::uint64_t value);

// A plain copy of one histogram: observations per bucket (not cumulative), the last entry
// above every bound.
struct histogram_counts {
    std::array<std::uint64_t, histogram_max_bounds + 1> buckets{};
    std::uint64_t sum = 0;

    std::uint64_t count() const;
    histogram_counts minus(const histogram_counts& earlier) const;
};

// The q-quantile (0 <= q <= 1) in the raw unit, nullopt when there is no observation. A rank
// in the bucket above the last bound gives the last bound (nothing better is known).
std::optional<double> quantile(const histogram_counts& counts, std::span<const std::uint64_t> bounds, double q);

class histogram_block {
public:
    static constexpr std::size_t window_slots = 6;
    static constexpr std::uint64_t window_step_ms = 10'000;

    explicit histogram_block(std::uint64_t now_ms = 0);

    void observe(histogram h, std::uint64_t value) {
        auto& c = cells_[static_cast<std::size_t>(h)];
        c.buckets[bucket_of(info(h).bounds, value)].fetch_add(1, std::memory_order_relaxed);
        c.sum.fetch_add(value, std::memory_order_relaxed);
    }
    histogram_counts read(histogram h) const;

    // Takes the snapshot of the window's ring (every window_step_ms; `now_ms` on any steady
    // millisecond clock, the one given to the constructor).
    void tick(std::uint64_t now_ms);
    struct window {
        std::array<histogram_counts, histogram_count> counts;
        double seconds = 0;  // the span the counts cover
    };
    window last_window(std::uint64_t now_ms) const;

private:
    struct cell {
        std::array<std::atomic<std::uint64_t>, histogram_max_bounds + 1> buckets{};
        std::atomic<std::uint64_t> sum{0};
    };
    struct snapshot {
        std::array<histogram_counts, histogram_count> counts{};
        std::uint64_t at_ms = 0;
    };
    std::array<cell, histogram_count> cells_;
    mutable std::mutex ring_mu_;
    std::array<snapshot, window_slots> ring_{};
    std::size_t oldest_ = 0;  // the slot the next tick overwrites
};

}  // namespace tlsbroker::core
