#include "core/backend/backend_set.hpp"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "core/common/log.hpp"

namespace tlsbroker::core {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

backend_set::backend_set(const config::listener_config& cfg, std::optional<counters> ctr,
                         backend_resolver::options resolve)
    : backends_(cfg.backends.empty() ? std::vector<config::backend_config>{cfg.backend} : cfg.backends),
      round_robin_(cfg.backend_policy == config::backend_policy::round_robin),
      health_(cfg.backend_health),
      listener_name_(cfg.name),
      resolver_(std::make_shared<backend_resolver>(cfg.name, backends_, ctr, std::move(resolve))),
      state_(backends_.size()),
      down_until_(backends_.size(), clock::time_point::min()) {
    for (std::size_t i = 0; i < backends_.size(); ++i) state_[i].address = backends_[i].address.text;
}

bool backend_set::usable(std::size_t i, clock::time_point now) const { return state_[i].up || now >= down_until_[i]; }

std::vector<std::size_t> backend_set::order() {
    const std::size_t n = backends_.size();
    const std::size_t start = round_robin_ ? next_.fetch_add(1) % n : 0;
    std::vector<std::size_t> good, down;
    const auto now = clock::now();
    std::lock_guard lock(mutex_);
    for (std::size_t k = 0; k < n; ++k) {
        const auto i = (start + k) % n;
        (usable(i, now) ? good : down).push_back(i);
    }
    good.insert(good.end(), down.begin(), down.end());
    return good;
}

void backend_set::report(std::size_t i, bool ok) {
    std::lock_guard lock(mutex_);
    auto& s = state_[i];
    if (ok) {
        ++s.connects_ok;
        s.consecutive_failures = 0;
        if (!s.up) {
            s.up = true;
            log::write_event(log::event::backend_up, {{"listener", listener_name_}, {"backend", s.address}},
                             log::str("listener '", listener_name_, "' backend ", s.address, " is up again"));
        }
        return;
    }
    ++s.connects_failed;
    ++s.consecutive_failures;
    if (s.consecutive_failures >= health_.fail_threshold) {
        if (s.up) {
            s.up = false;
            ++s.marked_down;
            log::limited_event(
                log::event::backend_down, listener_name_ + ":backend-down:" + s.address,
                {{"listener", listener_name_},
                 {"backend", s.address},
                 {"failures", log::str(s.consecutive_failures)},
                 {"cooldown_ms", log::str(health_.cooldown_ms)}},
                log::str("listener '", listener_name_, "' backend ", s.address, " marked down after ",
                         s.consecutive_failures, " failed connects; skipped for ", health_.cooldown_ms, " ms"));
        }
        down_until_[i] = clock::now() + std::chrono::milliseconds(health_.cooldown_ms);
    }
}

std::vector<backend_state> backend_set::snapshot() const {
    std::lock_guard lock(mutex_);
    return state_;
}

void backend_set::start_checks(asio::io_context& ioc) {
    resolver_->start(ioc);
    if (health_.check_interval_ms == 0) return;
    strand_ = std::make_unique<asio::strand<asio::io_context::executor_type>>(asio::make_strand(ioc));
    timer_ = std::make_unique<asio::steady_timer>(*strand_);
    checks_.resize(backends_.size());
    checking_ = true;
    asio::dispatch(*strand_, [self = shared_from_this()] { self->check_round(); });
}

void backend_set::stop_checks() {
    resolver_->stop();
    if (!checking_.exchange(false) || !strand_) return;
    asio::dispatch(*strand_, [self = shared_from_this()] {
        self->timer_->cancel();
        for (auto& c : self->checks_) {
            boost::system::error_code ignored;
            if (c.socket) c.socket->close(ignored);
            if (c.deadline) c.deadline->cancel();
        }
    });
}

void backend_set::check_round() {
    timer_->expires_after(std::chrono::milliseconds(health_.check_interval_ms));
    timer_->async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
        if (ec || !self->checking_) return;
        for (std::size_t i = 0; i < self->backends_.size(); ++i) {
            {
                std::lock_guard lock(self->mutex_);
                if (self->state_[i].up) continue;
            }
            if (!self->checks_[i].socket) self->check(i);  // one at a time per backend
        }
        self->check_round();
    });
}

// One TCP connect to backend i under its connect_timeout_ms; success marks it up.
void backend_set::check(std::size_t i) {
    // A name is checked at its first cached address; before its first lookup, not at all.
    const auto known = resolver_->addresses(i, *strand_, [] {});
    if (!known.ready || known.addresses.empty()) return;
    const auto target = known.addresses.front();
    auto& c = checks_[i];
    c.socket = std::make_shared<tcp::socket>(*strand_);
    c.deadline = std::make_shared<asio::steady_timer>(*strand_);
    ++in_flight_;
    auto done = [self = shared_from_this(), i, sock = c.socket](bool ok) {
        auto& c = self->checks_[i];
        if (c.socket != sock) return;  // already finished (the other of connect and deadline)
        boost::system::error_code ignored;
        c.socket->close(ignored);
        c.deadline->cancel();
        c.socket.reset();
        c.deadline.reset();
        --self->in_flight_;
        if (ok && self->checking_) self->report(i, true);
    };
    c.deadline->expires_after(std::chrono::milliseconds(backends_[i].connect_timeout_ms));
    c.deadline->async_wait([done](const boost::system::error_code& ec) {
        if (!ec) done(false);  // no answer within connect_timeout_ms
    });
    c.socket->async_connect(target, [done](const boost::system::error_code& ec) { done(!ec); });
}

}  // namespace tlsbroker::core
