#include "core/accept/accept_loop.hpp"

#include <boost/asio/post.hpp>

#include "core/accept/accept_error.hpp"
#include "core/common/counters.hpp"
#include "core/common/log.hpp"

namespace tlsbroker::core {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

class real_accept final : public accept_operations {
public:
    bool start(tcp::acceptor& acceptor, const asio::any_io_executor& socket_executor, handler done) override {
        acceptor.async_accept(socket_executor, std::move(done));
        return true;
    }
};

}  // namespace

std::shared_ptr<accept_operations> default_accept_operations() {
    static const auto ops = std::make_shared<real_accept>();
    return ops;
}

accept_loop::accept_loop(asio::io_context& ioc, accept_loop_options options)
    : ioc_(ioc),
      options_(std::move(options)),
      ops_(default_accept_operations()),
      strand_(asio::make_strand(ioc)),
      acceptor_(strand_),
      retry_timer_(strand_) {}

accept_loop::~accept_loop() = default;

void accept_loop::set_owner(std::weak_ptr<accept_loop_owner> owner) { owner_ = std::move(owner); }

void accept_loop::start() {
    asio::post(strand_, [self = shared_from_this()] { self->do_arm(); });
}

void accept_loop::start_with_retry() {
    asio::post(strand_, [self = shared_from_this()] { self->schedule_retry(std::chrono::milliseconds(0), true); });
}

void accept_loop::stop(std::function<void()> then) {
    if (stop_requested_.exchange(true)) return;
    auto step = [self = shared_from_this(), then = std::move(then)] {
        self->stopping_ = true;
        boost::system::error_code ignored;
        self->acceptor_.close(ignored);
        self->cancel_retry();
        self->set_state(listener_state::stopped);
        if (then) then();
    };
    if (ioc_.stopped())
        step();  // no thread runs the loop: nothing can race with us
    else
        asio::post(strand_, std::move(step));
}

void accept_loop::hand_over(std::function<void(std::intptr_t)> then) {
    stop_requested_ = true;
    asio::post(strand_, [self = shared_from_this(), then = std::move(then)] {
        self->stopping_ = true;
        self->cancel_retry();
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

void accept_loop::resume() {
    asio::post(strand_, [self = shared_from_this()] {
        if (self->stopping_ || self->state_.load() != listener_state::paused_at_limit) return;
        const auto owner = self->owner_.lock();
        if (!owner || !owner->may_arm()) return;
        owner->on_event(accept_event::resumed_below_limit);
        self->do_arm();
    });
}

void accept_loop::rearm() {
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

void accept_loop::recreate() {
    asio::post(strand_, [self = shared_from_this()] {
        if (self->stopping_) return;
        self->cancel_retry();  // a retry already queued is stale too
        if (self->recreate_socket()) return self->do_arm();
        self->schedule_retry(self->backoff_.next(), true);
    });
}

void accept_loop::use_accept_operations(std::shared_ptr<accept_operations> ops, std::function<void()> applied) {
    asio::post(strand_, [self = shared_from_this(), ops = std::move(ops), applied = std::move(applied)] {
        self->ops_ = ops ? ops : default_accept_operations();
        if (applied) applied();
    });
}

accept_progress accept_loop::progress() const {
    accept_progress p;
    p.state = state_.load();
    p.accept_outstanding = accept_outstanding_.load();
    p.timer_pending = timer_pending_.load();
    p.last_armed_ms = last_armed_ms_.load();
    p.last_completed_ms = last_completed_ms_.load();
    p.accepts = accepts_.load();
    return p;
}

void accept_loop::notify(accept_event e) {
    if (const auto owner = owner_.lock()) owner->on_event(e);
}

asio::any_io_executor accept_loop::next_socket_executor() {
    if (options_.socket_executor) return options_.socket_executor();
    return asio::make_strand(ioc_);
}

void accept_loop::do_arm() {
    if (stopping_) return set_state(listener_state::stopped);
    const auto owner = owner_.lock();
    if (!owner) {
        stopping_ = true;  // nobody to hand connections to
        return set_state(listener_state::stopped);
    }
    if (!owner->may_arm()) {
        if (state_.load() != listener_state::paused_at_limit) owner->on_event(accept_event::paused_at_limit);
        return set_state(listener_state::paused_at_limit);
    }
    set_state(listener_state::accepting);
    const bool started = ops_->start(
        acceptor_, next_socket_executor(),
        [self = shared_from_this(), gen = generation_](const boost::system::error_code& ec, tcp::socket socket) {
            self->on_accept(ec, std::move(socket), gen);
        });
    accept_outstanding_ = started;
    if (started) last_armed_ms_ = unix_ms_now();
}

// Every path below ends with the loop accepting, backing off, paused or stopped.
void accept_loop::on_accept(const boost::system::error_code& ec, tcp::socket socket, std::uint64_t generation) {
    if (generation != generation_) return on_stale_accept(ec, std::move(socket));
    accept_outstanding_ = false;
    last_completed_ms_ = unix_ms_now();
    if (ec) return on_failed_accept(ec);

    const auto owner = owner_.lock();
    if (!owner) {
        boost::system::error_code ignored;
        socket.close(ignored);
        stopping_ = true;
        return set_state(listener_state::stopped);
    }
    backoff_.reset();
    accepts_.fetch_add(1);
    owner->on_connection(std::move(socket));
    take_queued(*owner);
    return do_arm();
}

void accept_loop::take_queued(accept_loop_owner& owner) {
    if (options_.batch <= 1) return;
    boost::system::error_code ec;
    if (!acceptor_.non_blocking()) acceptor_.non_blocking(true, ec);
    for (std::size_t i = 1; i < options_.batch && !ec && !stopping_ && owner.may_arm(); ++i) {
        tcp::socket more(next_socket_executor());
        acceptor_.accept(more, ec);
        // would_block: the queue is empty. Any other error is met again by the next
        // overlapped accept, which classifies it (and backs off where it must).
        if (ec) break;
        accepts_.fetch_add(1);
        owner.on_connection(std::move(more));
    }
}

// A completion from a socket since replaced: it arms nothing (the state belongs to the new
// socket), but a connection it took is a client like any other.
void accept_loop::on_stale_accept(const boost::system::error_code& ec, tcp::socket socket) {
    const auto owner = owner_.lock();
    if (!ec && socket.is_open() && owner) {
        accepts_.fetch_add(1);
        owner->on_connection(std::move(socket));
    }
}

void accept_loop::on_failed_accept(const boost::system::error_code& ec) {
    const auto d = classify_accept_error(ec, stopping_);
    switch (d.error_class) {
        case accept_error_class::connection:
            notify(accept_event::error_connection);
            break;
        case accept_error_class::resource:
        case accept_error_class::unknown:
            notify(accept_event::error_resource);
            break;
        case accept_error_class::listener:
            notify(accept_event::error_listener);
            break;
        case accept_error_class::cancelled:
            break;
    }
    switch (d.action) {
        case accept_action::stop:
            return set_state(listener_state::stopped);
        case accept_action::retry_now:
            if (d.error_class != accept_error_class::cancelled)
                log::limited(log::level::info, options_.log_key + ":accept-connection",
                             log::str(options_.what, " accept: ", ec.message(), " (accepting again)"), log::client());
            return do_arm();
        case accept_action::back_off: {
            // Never an immediate re-arm after a resource error: it would spin.
            const auto delay = backoff_.next();
            notify(accept_event::backing_off);
            log::limited_event(
                log::event::descriptor_capacity_reached, options_.log_key + ":accept-resource",
                {{"listener", options_.log_key}, {"error", ec.message()}, {"backoff_ms", log::str(delay.count())}},
                log::str(options_.what, " accept: ", ec.message(), " (", to_string(d.error_class),
                         " error; backing off ", delay.count(), " ms)"));
            return schedule_retry(delay, false);
        }
        case accept_action::recreate_listener: {
            const auto delay = backoff_.next();
            log::limited(log::level::error, options_.log_key + ":accept-listener",
                         log::str(options_.what, " accept: ", ec.message(),
                                  " (listening socket broken; re-creating it in ", delay.count(), " ms)"));
            return schedule_retry(delay, true);
        }
    }
    return set_state(listener_state::stopped);  // not reached: every action is handled above
}

void accept_loop::schedule_retry(std::chrono::milliseconds delay, bool recreate) {
    set_state(listener_state::backing_off);
    timer_pending_ = true;
    const auto seq = ++retry_seq_;
    retry_timer_.expires_after(delay);
    retry_timer_.async_wait([self = shared_from_this(), recreate, seq](const boost::system::error_code& ec) {
        self->on_retry(ec, recreate, seq);
    });
}

void accept_loop::on_retry(const boost::system::error_code& ec, bool recreate, std::uint64_t seq) {
    // A cancelled retry arms nothing: whoever cancelled it (stop, hand-over, a watchdog step)
    // decides what comes next and has set the state. Only the retry scheduled last may arm.
    if (ec == asio::error::operation_aborted || seq != retry_seq_) return;
    timer_pending_ = false;
    if (stopping_) return set_state(listener_state::stopped);
    if (recreate || !acceptor_.is_open()) {
        // recreate_socket() logs, counts and keeps the old socket's queue; without an open
        // socket (a reload that had to bind anew, or a failed attempt) it binds.
        if (!recreate_socket()) return schedule_retry(backoff_.next(), true);
    } else {
        notify(accept_event::resumed_after_backoff);
    }
    return do_arm();
}

void accept_loop::cancel_retry() {
    ++retry_seq_;
    retry_timer_.cancel();
    timer_pending_ = false;
}

}  // namespace tlsbroker::core
