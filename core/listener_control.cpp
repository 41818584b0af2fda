// The listener's lifecycle and watchdog-facing operations (stop, drain, recovery, probes).
#include <boost/asio/post.hpp>

#include "core/listener.hpp"
#include "core/log.hpp"
#include "core/session.hpp"

#ifdef __linux__
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#endif

namespace tlsbroker::core {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

void listener::stop() {
    asio::post(strand_, [self = shared_from_this()] {
        if (self->stopping_) return;
        self->stopping_ = true;
        boost::system::error_code ec;
        self->acceptor_.close(ec);
        self->retry_timer_.cancel();
        self->backends_->stop_checks();
        self->set_state(listener_state::stopped);
        TB_LOG_INFO("listener '", self->cfg_->name, "' stopped accepting (", self->live_sessions(),
                    " connections still open)");
    });
}

void listener::hand_over(std::function<void(std::intptr_t)> then) {
    asio::post(strand_, [self = shared_from_this(), then = std::move(then)] {
        self->stopping_ = true;
        self->retry_timer_.cancel();
        self->backends_->stop_checks();
        boost::system::error_code ec;
        self->acceptor_.cancel(ec);
        std::intptr_t fd = -1;
        if (self->acceptor_.is_open()) fd = static_cast<std::intptr_t>(self->acceptor_.release(ec));
        if (ec) {
            // Windows may refuse to release a socket bound to its completion port: close it,
            // and the successor binds the endpoint anew.
            fd = -1;
            boost::system::error_code ignored;
            self->acceptor_.close(ignored);
        }
        self->set_state(listener_state::stopped);
        then(fd);
    });
}

void listener::inherit_slots(listener& from) {
    slots_ = from.slots_;
    std::lock_guard lock(slots_->mu);
    slots_->owner = weak_from_this();
}

void listener::start_with_retry() {
    prepare();
    asio::post(strand_, [self = shared_from_this()] { self->schedule_retry(std::chrono::milliseconds(0), true); });
}

void listener::drain(std::chrono::milliseconds grace) {
    stop();
    asio::post(strand_, [self = shared_from_this(), grace] {
        self->drain_timer_.expires_after(grace);
        self->drain_timer_.async_wait([self](const boost::system::error_code& ec) {
            if (ec) return;
            std::vector<std::shared_ptr<session>> left;
            {
                std::lock_guard lock(self->sessions_mutex_);
                for (auto& [p, w] : self->sessions_)
                    if (auto s = w.lock()) left.push_back(std::move(s));
            }
            if (!left.empty())
                TB_LOG_WARN("listener '", self->cfg_->name, "': drain period over, closing ", left.size(),
                            " connections");
            for (auto& s : left) s->abort(close_reason::drain);
        });
    });
}

tcp::endpoint listener::local_endpoint() const { return bound_; }

std::size_t listener::live_sessions() const {
    std::lock_guard lock(sessions_mutex_);
    return sessions_.size();
}

accept_progress listener::progress() const {
    accept_progress p;
    p.state = state_.load();
    p.accept_outstanding = accept_outstanding_.load();
    p.timer_pending = timer_pending_.load();
    p.last_armed_ms = last_armed_ms_.load();
    p.last_completed_ms = last_completed_ms_.load();
    p.accepts = accepts_.load();
    p.active = slots_->active.load();
    p.max_connections = cfg_->max_connections;
    return p;
}

void listener::inspect(std::function<void(accept_progress, std::optional<std::uint32_t>)> cb) {
    asio::post(strand_, [self = shared_from_this(), cb = std::move(cb)] {
        cb(self->progress(), self->acceptor_.is_open() ? self->accept_queue_depth() : std::nullopt);
    });
}

void listener::recover_rearm() {
    asio::post(strand_, [self = shared_from_this()] {
        if (self->stopping_ || self->state_.load() != listener_state::accepting) return;
        if (self->accept_outstanding_.load()) {
            // The completion (operation_aborted) arms the next accept.
            boost::system::error_code ec;
            self->acceptor_.cancel(ec);
            if (!ec) return;
        }
        self->do_arm();
    });
}

void listener::recover_recreate() {
    asio::post(strand_, [self = shared_from_this()] {
        if (self->stopping_) return;
        self->retry_timer_.cancel();
        self->timer_pending_ = false;
        if (self->recreate_socket()) return self->do_arm();
        self->schedule_retry(self->backoff_.next(), true);
    });
}

void listener::add_probe(const tcp::endpoint& from, std::function<void()> on_taken) {
    const auto now = std::chrono::steady_clock::now();
    std::lock_guard lock(probes_mutex_);
    // A canary whose connection never reached the queue (dropped at a full backlog, say).
    std::erase_if(probes_, [&](const auto& p) { return now - p.added > std::chrono::minutes(1); });
    probes_.push_back({from, std::move(on_taken), now});
}

void listener::remove_probe(const tcp::endpoint& from) {
    std::lock_guard lock(probes_mutex_);
    std::erase_if(probes_, [&](const auto& p) { return p.from == from; });
}

bool listener::take_probe(const tcp::endpoint& remote) {
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

std::optional<std::uint32_t> listener::accept_queue_depth() const {
#ifdef __linux__
    // For a listening socket, tcpi_unacked is the current accept-queue length.
    tcp_info info{};
    socklen_t len = sizeof info;
    const int fd = static_cast<int>(native_handle());
    if (fd >= 0 && ::getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &len) == 0) return info.tcpi_unacked;
#endif
    return std::nullopt;
}

std::intptr_t listener::native_handle() const {
    return static_cast<std::intptr_t>(const_cast<tcp::acceptor&>(acceptor_).native_handle());
}

}  // namespace tlsbroker::core
