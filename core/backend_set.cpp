#include "core/backend_set.hpp"

#include <boost/asio/ip/tcp.hpp>

#include "core/log.hpp"

namespace tlsbroker::core {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

backend_set::backend_set(const config::listener_config& cfg)
    : backends_(cfg.backends.empty() ? std::vector<config::backend_config>{cfg.backend} : cfg.backends),
      round_robin_(cfg.backend_policy == "round_robin"),
      health_(cfg.backend_health),
      listener_name_(cfg.name),
      state_(backends_.size()),
      down_until_(backends_.size(), clock::time_point::min()) {
    for (std::size_t i = 0; i < backends_.size(); ++i) state_[i].address = backends_[i].address.text;
}

bool backend_set::usable(std::size_t i, clock::time_point now) const {
    return state_[i].up || now >= down_until_[i];
}

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
            TB_LOG_WARN("listener '", listener_name_, "' backend ", s.address, " is up again");
        }
        return;
    }
    ++s.connects_failed;
    ++s.consecutive_failures;
    if (s.consecutive_failures >= health_.fail_threshold) {
        if (s.up) {
            s.up = false;
            ++s.marked_down;
            log::limited(log::level::error, listener_name_ + ":backend-down:" + s.address,
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
    if (health_.check_interval_ms == 0) return;
    timer_ = std::make_unique<asio::steady_timer>(ioc);
    checking_ = true;
    check_round();
}

void backend_set::stop_checks() {
    checking_ = false;
    if (timer_) timer_->cancel();
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
            const auto& a = self->backends_[i].address;
            boost::system::error_code e;
            const auto ip = asio::ip::make_address(a.host, e);
            if (e) continue;  // names are checked by real connects only
            auto sock = std::make_shared<tcp::socket>(self->timer_->get_executor());
            sock->async_connect(tcp::endpoint(ip, a.port), [self, sock, i](const boost::system::error_code& ce) {
                if (!ce) self->report(i, true);
                boost::system::error_code ignored;
                sock->close(ignored);
            });
        }
        self->check_round();
    });
}

}  // namespace tlsbroker::core
