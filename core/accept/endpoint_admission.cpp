#include "core/accept/endpoint_admission.hpp"

#include <algorithm>

namespace tlsbroker::core {

connection_slot::connection_slot(connection_slot&& o) noexcept
    : admission_(std::move(o.admission_)), source_(std::move(o.source_)), per_source_(o.per_source_), gauge_(o.gauge_) {
    o.gauge_.reset();
}

connection_slot& connection_slot::operator=(connection_slot&& o) noexcept {
    if (this != &o) {
        release();
        admission_ = std::move(o.admission_);
        source_ = std::move(o.source_);
        per_source_ = o.per_source_;
        gauge_ = o.gauge_;
        o.gauge_.reset();
    }
    return *this;
}

void connection_slot::track(counters c) {
    if (!admission_ || gauge_) return;
    c.add(counter::connections_active);
    gauge_.emplace(c);
}

void connection_slot::release() noexcept {
    if (!admission_) return;
    auto a = std::move(admission_);
    admission_.reset();
    if (gauge_) {
        gauge_->sub(counter::connections_active);
        gauge_.reset();
    }
    a->release(source_, per_source_);
}

endpoint_admission::endpoint_admission(const limits& l)
    : max_(l.max_connections),
      limiter_(l.per_source.max_connections_per_source, l.per_source.rate_per_source, l.per_source.rate_burst) {}

void endpoint_admission::configure(const limits& l) {
    max_.store(l.max_connections);
    limiter_.set_limits(l.per_source.max_connections_per_source, l.per_source.rate_per_source, l.per_source.rate_burst);
}

endpoint_admission::admission endpoint_admission::admit(const boost::asio::ip::address& source) {
    admission a;
    // The slot is counted in the limiter even while per-source limits are off, so that
    // turning them on at a reload sees the connections already open.
    const auto v = limiter_.admit(source, source_limiter::clock::now());
    if (v == source_limiter::verdict::too_many) {
        a.outcome = verdict::too_many_from_source;
        return a;
    }
    if (v == source_limiter::verdict::too_fast) {
        a.outcome = verdict::too_fast_from_source;
        return a;
    }
    active_.fetch_add(1);
    a.slot = connection_slot(shared_from_this(), source, true);
    return a;
}

connection_slot endpoint_admission::reserve() {
    active_.fetch_add(1);
    return connection_slot(shared_from_this(), {}, false);
}

connection_slot::source_verdict connection_slot::name_source(const boost::asio::ip::address& source) {
    if (!admission_ || per_source_) return source_verdict::admitted;
    const auto v = admission_->limiter_.admit(source, source_limiter::clock::now());
    if (v == source_limiter::verdict::too_many) return source_verdict::too_many;
    if (v == source_limiter::verdict::too_fast) return source_verdict::too_fast;
    source_ = source;
    per_source_ = true;
    return source_verdict::admitted;
}

void endpoint_admission::release(const boost::asio::ip::address& source, bool per_source) noexcept {
    if (per_source) limiter_.release(source);
    active_.fetch_sub(1);
    std::function<void()> wake;
    {
        std::lock_guard lock(wake_mutex_);
        wake = wake_;
    }
    try {
        if (wake) wake();
    } catch (...) {
        // A wake-up that cannot be posted (out of memory): the watchdog's check of a pause
        // below the limit resumes the listener.
    }
}

void endpoint_admission::on_slot_freed(std::function<void()> cb) {
    std::lock_guard lock(wake_mutex_);
    wake_ = std::move(cb);
}

void endpoint_admission::add_probe(const boost::asio::ip::tcp::endpoint& from, std::function<void()> on_taken) {
    const auto now = std::chrono::steady_clock::now();
    std::lock_guard lock(probes_mutex_);
    // A canary whose connection never reached the queue (dropped at a full backlog, say).
    std::erase_if(probes_, [&](const auto& p) { return now - p.added > std::chrono::minutes(1); });
    probes_.push_back({from, std::move(on_taken), now});
}

void endpoint_admission::remove_probe(const boost::asio::ip::tcp::endpoint& from) {
    std::lock_guard lock(probes_mutex_);
    std::erase_if(probes_, [&](const auto& p) { return p.from == from; });
}

bool endpoint_admission::take_probe(const boost::asio::ip::tcp::endpoint& remote) {
    std::function<void()> cb;
    {
        std::lock_guard lock(probes_mutex_);
        if (probes_.empty()) return false;
        const auto it = std::find_if(probes_.begin(), probes_.end(), [&](const auto& p) { return p.from == remote; });
        if (it == probes_.end()) return false;
        cb = std::move(it->on_taken);
        probes_.erase(it);
    }
    if (cb) cb();
    return true;
}

}  // namespace tlsbroker::core
