#include "core/accept/source_limiter.hpp"

#include <algorithm>
#include <functional>

namespace tlsbroker::core {

namespace {
constexpr std::size_t prune_above = 65536;  // bounded memory under address-spraying floods
}

std::size_t source_limiter::hasher::operator()(const boost::asio::ip::address& a) const {
    if (a.is_v4()) return std::hash<std::uint32_t>()(a.to_v4().to_uint());
    const auto b = a.to_v6().to_bytes();
    std::size_t h = 0;
    for (auto c : b) h = h * 131 + c;
    return h;
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
    auto [it, fresh] = sources_.try_emplace(a);
    auto& e = it->second;
    if (fresh) {
        e.tokens = burst_;
        e.refilled = now;
    }
    if (max_ != 0 && e.live >= max_) return verdict::too_many;
    if (rate_ != 0) {
        const double elapsed = std::chrono::duration<double>(now - e.refilled).count();
        e.tokens = std::min<double>(burst_, e.tokens + elapsed * rate_);
        e.refilled = now;
        if (e.tokens < 1.0) return verdict::too_fast;
        e.tokens -= 1.0;
    }
    ++e.live;
    return verdict::ok;
}

void source_limiter::release(const boost::asio::ip::address& a) {
    std::lock_guard lock(mutex_);
    const auto it = sources_.find(a);
    if (it == sources_.end() || it->second.live == 0) return;
    --it->second.live;
}

std::size_t source_limiter::tracked() const {
    std::lock_guard lock(mutex_);
    return sources_.size();
}

// Forgets sources with no live connection whose bucket is full again.
void source_limiter::prune(clock::time_point now) {
    for (auto it = sources_.begin(); it != sources_.end();) {
        const double elapsed = std::chrono::duration<double>(now - it->second.refilled).count();
        const bool full = rate_ == 0 || it->second.tokens + elapsed * rate_ >= burst_;
        it = (it->second.live == 0 && full) ? sources_.erase(it) : std::next(it);
    }
}

}  // namespace tlsbroker::core
