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
        ++self->retry_seq_;
        self->retry_timer_.cancel();
        self->timer_pending_ = false;
        self->backends_->stop_checks();
        self->set_state(listener_state::stopped);
        TB_LOG_INFO("listener '", self->cfg_->name, "' stopped accepting (", self->live_sessions(),
                    " connections still open)");
    });
}

void listener::hand_over(std::function<void(std::intptr_t)> then) {
    asio::post(strand_, [self = shared_from_this(), then = std::move(then)] {
        self->stopping_ = true;
        ++self->retry_seq_;
        self->retry_timer_.cancel();
        self->timer_pending_ = false;
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
            if (const auto n = self->registry_->abort_all(close_reason::drain); n != 0)
                TB_LOG_WARN("listener '", self->cfg_->name, "': drain period over, closing ", n, " connections");
        });
    });
}

tcp::endpoint listener::local_endpoint() const { return bound_; }

std::size_t listener::live_sessions() const { return registry_->size(); }

accept_progress listener::progress() const {
    accept_progress p;
    p.state = state_.load();
    p.accept_outstanding = accept_outstanding_.load();
    p.timer_pending = timer_pending_.load();
    p.last_armed_ms = last_armed_ms_.load();
    p.last_completed_ms = last_completed_ms_.load();
    p.accepts = accepts_.load();
    p.active = admission_->active();
    p.max_connections = admission_->max_connections();
    p.live_sessions = registry_->size();
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
        ++self->retry_seq_;  // a retry already queued is stale too
        self->retry_timer_.cancel();
        self->timer_pending_ = false;
        if (self->recreate_socket()) return self->do_arm();
        self->schedule_retry(self->backoff_.next(), true);
    });
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
