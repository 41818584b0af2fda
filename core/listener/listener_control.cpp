// The listener's lifecycle and watchdog-facing operations (stop, drain, recovery, probes).
#include <boost/asio/post.hpp>

#include "core/common/log.hpp"
#include "core/listener/listener.hpp"
#include "core/session/session.hpp"

namespace tlsbroker::core {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

void listener::stop() {
    loop_->stop([self = shared_from_this()] {
        self->backends_->stop_checks();
        TB_LOG_INFO("listener '", self->cfg_->name, "' stopped accepting (", self->live_sessions(),
                    " connections still open)");
    });
}

void listener::hand_over(std::function<void(std::intptr_t)> then) {
    loop_->hand_over([self = shared_from_this(), then = std::move(then)](std::intptr_t fd) {
        self->backends_->stop_checks();
        then(fd);
    });
}

void listener::start_with_retry() {
    prepare();
    loop_->set_endpoint(bind_endpoint(cfg_->listen));
    loop_->start_with_retry();
}

void listener::drain(std::chrono::milliseconds grace) {
    stop();
    asio::post(loop_->strand(), [self = shared_from_this(), grace] {
        self->drain_timer_.expires_after(grace);
        self->drain_timer_.async_wait([self](const boost::system::error_code& ec) {
            if (ec) return;
            if (const auto n = self->registry_->abort_all(close_reason::drain); n != 0)
                TB_LOG_WARN("listener '", self->cfg_->name, "': drain period over, closing ", n, " connections");
        });
    });
}

std::size_t listener::live_sessions() const { return registry_->size(); }

accept_progress listener::progress() const {
    auto p = loop_->progress();
    p.active = admission_->active();
    p.max_connections = admission_->max_connections();
    p.live_sessions = registry_->size();
    return p;
}

void listener::inspect(std::function<void(accept_progress, std::optional<std::uint32_t>)> cb) {
    asio::post(loop_->strand(), [self = shared_from_this(), cb = std::move(cb)] {
        cb(self->progress(), self->loop_->is_open() ? self->loop_->queue_depth() : std::nullopt);
    });
}

void listener::recover_rearm() { loop_->rearm(); }

void listener::recover_recreate() { loop_->recreate(); }

}  // namespace tlsbroker::core
