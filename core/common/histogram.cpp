#include "core/common/histogram.hpp"

#include <algorithm>

namespace tlsbroker::core {

namespace {

using u = histogram_unit;

// Handshakes, in µs: 1 ms to 30 s. A full handshake costs the broker about 1 ms of CPU
// (RSA-2048 or ECDSA P-256) and a resumed one less, so a LAN client lands in the first
// buckets; site clients over a WAN or a VPN add one or two round trips of 10 to 300 ms;
// 10 s is the default timeouts.handshake_ms, and slower (a larger configured timeout) is
// rare enough for one bucket up to 30 s and +Inf.
constexpr std::array<std::uint64_t, 14> handshake_bounds{1'000,     2'500,     5'000,      10'000,    25'000,
                                                         50'000,    100'000,   250'000,    500'000,   1'000'000,
                                                         2'500'000, 5'000'000, 10'000'000, 30'000'000};
// Backend connects, in µs: 100 µs to 30 s. A backend on the same host or LAN connects in
// 50 to 500 µs, so the buckets start finer than a handshake's; 5 s is the default
// connect_timeout_ms of one backend and 30 s the default connect_total_ms of the walk.
constexpr std::array<std::uint64_t, 16> connect_bounds{100,       250,       500,       1'000,     2'500,   5'000,
                                                       10'000,    25'000,    50'000,    100'000,   250'000, 500'000,
                                                       1'000'000, 2'500'000, 5'000'000, 30'000'000};
// Sessions, in ms: 10 ms (one request and close) to a day (a long-lived tunnel).
constexpr std::array<std::uint64_t, 11> session_bounds{10,      100,       1'000,      10'000,     60'000,    300'000,
                                                       900'000, 3'600'000, 14'400'000, 43'200'000, 86'400'000};
// Bytes per session, both directions: 1 KiB (a probe or a tiny request) to 1 GiB, by 4.
constexpr std::array<std::uint64_t, 11> bytes_bounds{1ull << 10, 1ull << 12, 1ull << 14, 1ull << 16,
                                                     1ull << 18, 1ull << 20, 1ull << 22, 1ull << 24,
                                                     1ull << 26, 1ull << 28, 1ull << 30};

constexpr std::array<histogram_info, histogram_count> table{{
    {histogram::handshake_full, "handshake_full_seconds", "tlsbroker_handshake_duration_seconds", "kind=\"full\"",
     "TLS handshakes that succeeded, from accept (PROXY header included) to done, by kind.", u::microseconds,
     handshake_bounds},
    {histogram::handshake_resumed, "handshake_resumed_seconds", "tlsbroker_handshake_duration_seconds",
     "kind=\"resumed\"", "TLS handshakes that succeeded, from accept (PROXY header included) to done, by kind.",
     u::microseconds, handshake_bounds},
    {histogram::backend_connect, "backend_connect_seconds", "tlsbroker_backend_connect_duration_seconds", "",
     "From a finished handshake to a connected backend (every backend and address tried), for connects that "
     "succeeded.",
     u::microseconds, connect_bounds},
    {histogram::session_duration, "session_seconds", "tlsbroker_session_duration_seconds", "",
     "From accept to close, for sessions that reached the relay.", u::milliseconds, session_bounds},
    {histogram::session_bytes, "session_bytes", "tlsbroker_session_bytes", "",
     "Plaintext bytes relayed in both directions, per session that reached the relay.", u::bytes, bytes_bounds},
}};

constexpr bool table_sound() {
    for (std::size_t i = 0; i < table.size(); ++i) {
        if (static_cast<std::size_t>(table[i].id) != i) return false;
        const auto b = table[i].bounds;
        if (b.empty() || b.size() > histogram_max_bounds) return false;
        for (std::size_t j = 1; j < b.size(); ++j)
            if (b[j] <= b[j - 1]) return false;
    }
    return true;
}
static_assert(table_sound(), "histogram_table: enum order, 1 to 16 ascending bounds");

}  // namespace

std::span<const histogram_info, histogram_count> histogram_table() { return table; }

const histogram_info& info(histogram h) { return table[static_cast<std::size_t>(h)]; }

std::size_t bucket_of(std::span<const std::uint64_t> bounds, std::uint64_t value) {
    std::size_t i = 0;
    while (i < bounds.size() && value > bounds[i]) ++i;
    return i;
}

std::uint64_t histogram_counts::count() const {
    std::uint64_t n = 0;
    for (const auto b : buckets) n += b;
    return n;
}

histogram_counts histogram_counts::minus(const histogram_counts& earlier) const {
    histogram_counts d;
    for (std::size_t i = 0; i < buckets.size(); ++i)
        d.buckets[i] = buckets[i] >= earlier.buckets[i] ? buckets[i] - earlier.buckets[i] : 0;
    d.sum = sum >= earlier.sum ? sum - earlier.sum : 0;
    return d;
}

std::optional<double> quantile(const histogram_counts& counts, std::span<const std::uint64_t> bounds, double q) {
    const auto total = counts.count();
    if (total == 0 || bounds.empty()) return std::nullopt;
    q = std::clamp(q, 0.0, 1.0);
    const double rank = q * static_cast<double>(total);
    double below = 0;  // observations in the buckets before i
    for (std::size_t i = 0; i <= bounds.size(); ++i) {
        const auto in = static_cast<double>(counts.buckets[i]);
        if (in > 0 && below + in >= rank) {
            if (i == bounds.size()) return static_cast<double>(bounds.back());
            const double lower = i == 0 ? 0.0 : static_cast<double>(bounds[i - 1]);
            const auto upper = static_cast<double>(bounds[i]);
            return lower + (upper - lower) * std::max(0.0, rank - below) / in;
        }
        below += in;
    }
    return static_cast<double>(bounds.back());
}

histogram_block::histogram_block(std::uint64_t now_ms) {
    for (auto& s : ring_) s.at_ms = now_ms;
}

histogram_counts histogram_block::read(histogram h) const {
    const auto& c = cells_[static_cast<std::size_t>(h)];
    histogram_counts out;
    for (std::size_t i = 0; i < out.buckets.size(); ++i) out.buckets[i] = c.buckets[i].load(std::memory_order_relaxed);
    out.sum = c.sum.load(std::memory_order_relaxed);
    return out;
}

void histogram_block::tick(std::uint64_t now_ms) {
    snapshot s;
    for (std::size_t h = 0; h < histogram_count; ++h) s.counts[h] = read(static_cast<histogram>(h));
    s.at_ms = now_ms;
    std::lock_guard lock(ring_mu_);
    ring_[oldest_] = s;
    oldest_ = (oldest_ + 1) % window_slots;
}

histogram_block::window histogram_block::last_window(std::uint64_t now_ms) const {
    window w;
    std::lock_guard lock(ring_mu_);
    const auto& base = ring_[oldest_];
    for (std::size_t h = 0; h < histogram_count; ++h)
        w.counts[h] = read(static_cast<histogram>(h)).minus(base.counts[h]);
    w.seconds = now_ms > base.at_ms ? static_cast<double>(now_ms - base.at_ms) / 1000.0 : 0.0;
    return w;
}

}  // namespace tlsbroker::core
