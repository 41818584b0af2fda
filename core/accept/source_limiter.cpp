#include "core/accept/source_limiter.hpp"

#include <algorithm>
#include <random>

namespace tlsbroker::core {

namespace {

// splitmix64's finaliser: every input bit reaches every output bit.
std::uint64_t mix(std::uint64_t x) {
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

const std::uint64_t seed = [] {
    std::random_device rd;
    return (static_cast<std::uint64_t>(rd()) << 32) ^ rd();
}();

std::uint64_t load_be(const unsigned char* p) {
    std::uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v = (v << 8) | p[i];
    return v;
}

}  // namespace

source_limiter::key source_limiter::key_of(const boost::asio::ip::address& a) {
    constexpr std::uint64_t v4_mapped = 0xffff00000000ULL;  // ::ffff:a.b.c.d, low half
    if (a.is_v4()) return {0, v4_mapped | a.to_v4().to_uint()};
    const auto b = a.to_v6().to_bytes();
    const key k{load_be(b.data()), load_be(b.data() + 8)};
    if (k.high == 0 && (k.low >> 32) == 0xffff) return k;  // IPv4-mapped: the IPv4 address
    return {k.high, 0};                                    // the /64
}

std::size_t source_limiter::hasher::operator()(const key& k) const {
    return static_cast<std::size_t>(mix(k.high ^ seed) ^ mix(k.low + seed));
}

source_limiter::source_limiter(std::uint32_t max_per_source, std::uint32_t rate_per_second, std::uint32_t burst)
    : max_(max_per_source), rate_(rate_per_second), burst_(std::max<std::uint32_t>(1, burst)) {}

bool source_limiter::enabled() const {
    std::lock_guard lock(mutex_);
    return max_ != 0 || rate_ != 0;
}

void source_limiter::set_limits(std::uint32_t max_per_source, std::uint32_t rate_per_second, std::uint32_t burst) {
    std::lock_guard lock(mutex_);
    max_ = max_per_source;
    rate_ = rate_per_second;
    burst_ = std::max<std::uint32_t>(1, burst);
}

source_limiter::verdict source_limiter::admit(const boost::asio::ip::address& a, clock::time_point now) {
    std::lock_guard lock(mutex_);
    if (sources_.size() > prune_above) prune(now);
    const auto k = key_of(a);
    auto [it, fresh] = sources_.try_emplace(k);
    auto& e = it->second;
    if (fresh) {
        e.tokens = burst_;
        e.refilled = now;
        e.idle_at = idle_.insert(idle_.end(), k);
    } else if (e.live == 0) {
        idle_.splice(idle_.end(), idle_, e.idle_at);  // used now: the youngest idle entry
    }
    if (max_ != 0 && e.live >= max_) return verdict::too_many;
    if (rate_ != 0) {
        const double elapsed = std::chrono::duration<double>(now - e.refilled).count();
        e.tokens = std::min<double>(burst_, e.tokens + elapsed * rate_);
        e.refilled = now;
        if (e.tokens < 1.0) return verdict::too_fast;
        e.tokens -= 1.0;
    }
    if (e.live++ == 0) idle_.erase(e.idle_at);
    return verdict::ok;
}

void source_limiter::release(const boost::asio::ip::address& a) {
    std::lock_guard lock(mutex_);
    const auto k = key_of(a);
    const auto it = sources_.find(k);
    if (it == sources_.end() || it->second.live == 0) return;
    if (--it->second.live == 0) it->second.idle_at = idle_.insert(idle_.end(), k);
}

std::size_t source_limiter::tracked() const {
    std::lock_guard lock(mutex_);
    return sources_.size();
}

std::uint64_t source_limiter::prune_steps() const {
    std::lock_guard lock(mutex_);
    return prune_steps_;
}

std::size_t source_limiter::longest_bucket() const {
    std::lock_guard lock(mutex_);
    std::size_t longest = 0;
    for (std::size_t b = 0; b < sources_.bucket_count(); ++b) longest = std::max(longest, sources_.bucket_size(b));
    return longest;
}

bool source_limiter::bucket_full(const entry& e, clock::time_point now) const {
    if (rate_ == 0) return true;
    const double elapsed = std::chrono::duration<double>(now - e.refilled).count();
    return e.tokens + elapsed * rate_ >= burst_;
}

// Forgets the oldest idle sources whose bucket is full again, a few per call. The list is
// in order of last use, so when its oldest entry is still refilling, younger ones mostly are
// too; they are reached on later calls.
void source_limiter::prune(clock::time_point now) {
    for (std::size_t n = 0; n < prune_per_admit && !idle_.empty(); ++n) {
        ++prune_steps_;
        const auto it = sources_.find(idle_.front());
        if (!bucket_full(it->second, now)) return;
        idle_.pop_front();
        sources_.erase(it);
    }
}

}  // namespace tlsbroker::core
