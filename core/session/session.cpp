#include "core/session/session.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>

#include "core/accept/proxy_accept.hpp"
#include "core/accept/socket_options.hpp"
#include "core/common/log.hpp"
#include "core/session/connection_line.hpp"
#include "core/tls/peer_identity.hpp"

namespace tlsbroker::core {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

const char* to_string(close_reason r) {
    switch (r) {
        case close_reason::done:
            return "eof";
        case close_reason::handshake_failed:
            return "handshake-error";
        case close_reason::handshake_timeout:
            return "handshake-timeout";
        case close_reason::backend_failed:
            return "backend-connect-failed";
        case close_reason::idle_timeout:
            return "idle";
        case close_reason::write_stall:
            return "write-stall";
        case close_reason::half_close_timeout:
            return "half-close-timeout";
        case close_reason::client_error:
            return "client-error";
        case close_reason::backend_error:
            return "backend-error";
        case close_reason::drain:
            return "drain";
        case close_reason::refused:
            return "refused";
    }
    return "unknown";
}

session::session(session_context ctx, tcp::socket client, tcp::endpoint peer)
    : ctx_(std::move(ctx)),
      client_(std::move(client)),
      backend_(client_.socket().get_executor()),
      timer_(client_.socket().get_executor()),
      peer_(std::move(peer)),
      started_(clock::now()) {}

session::~session() { close_out(); }

void session::abandon() noexcept {
    if (phase_ == phase::handshake) ctx_.ctr.sub(counter::handshakes_in_progress);
    phase_ = phase::closed;
    try {
        timer_.cancel();
    } catch (...) {
    }
    try {
        client_.close(true);
        backend_.close(true);
    } catch (...) {
    }
    up_.buf.reset();
    down_.buf.reset();
    close_out();
}

void session::close_out() noexcept {
    if (ctx_.registry) ctx_.registry->remove(this);
    ctx_.slot.release();
}

// The client's stream ended after the handshake with a TCP end of stream and no close_notify
// (a reset or an error is counted as the session finishes).
void session::note_truncated(const std::string& how) {
    ctx_.ctr.add(counter::client_truncated);
    log::limited(
        log::level::info, log::str(cfg().name, ":client-truncated"),
        log::str("listener '", cfg().name, "' client ", peer_, ": stream ended without TLS close_notify (", how, ")"),
        log::client());
}

void session::notify(session_event e) const {
    if (ctx_.observe) ctx_.observe(e);
}

void session::start() {
    guarded([&] {
        ctx_.ctr.add(counter::handshakes_in_progress);
        client_.set_owner(weak_from_this());
        backend_.set_owner(weak_from_this());
        if (ctx_.registry) ctx_.registry->add(shared_from_this());
        notify(session_event::started);
        ssl_ = make_server_ssl(ctx_.tls->native(), client_);
        if (!ssl_) return finish(close_reason::handshake_failed, "cannot create TLS state", "internal_error");
        // The deadline covers a PROXY header too: one budget from accept to a finished handshake.
        phase_deadline_ = started_ + std::chrono::milliseconds(cfg().timeouts.handshake_ms);
        arm_timer();
        if (accepts_proxy(cfg())) {
            awaiting_proxy_ = true;
            return read_proxy_header();
        }
        do_handshake();
    });
}

void session::abort(close_reason why) {
    asio::post(executor(), [self = shared_from_this(), why] { self->guarded([&] { self->finish(why); }); });
}

void session::do_handshake() {
    const auto r = tls_handshake(ssl_.get());
    switch (r.status) {
        case io_status::ok:
            return on_handshake_done();
        case io_status::want_read:
        case io_status::want_write:
            return wait(side::client, r.status, nullptr);
        case io_status::eof:
            return finish(close_reason::handshake_failed, "client closed during handshake", "peer_closed");
        case io_status::error:
            return finish(close_reason::handshake_failed, r.error,
                          r.tls_error != 0 ? short_tls_reason(r.tls_error) : "transport_error");
    }
}

void session::on_handshake_done() {
    auto& c = ctx_.ctr;
    const auto now = clock::now();
    c.sub(counter::handshakes_in_progress);
    c.add(counter::handshakes_ok);
    observe(SSL_session_reused(ssl_.get()) == 1 ? histogram::handshake_resumed : histogram::handshake_full,
            micros(now - started_));
    if (const auto id = peer_identity(ssl_.get()); id.presented) {
        std::string sans;
        for (const auto& n : id.sans) sans += (sans.empty() ? "" : ",") + n;
        TB_LOG_INFO("listener '", cfg().name, "' client ", peer_, " certificate subject=", id.subject,
                    " sans=", sans.empty() ? "-" : sans, id.verified ? " (verified)" : " (not verified)");
        if (!id.problem.empty()) c.add(counter::client_identity_refused);
        if (!id.problem.empty())
            log::limited(log::level::warning, log::str(cfg().name, ":client-identity"),
                         log::str("listener '", cfg().name, "' client ", peer_, ": certificate name refused (",
                                  id.problem, "); it is not logged as a name nor passed to the backend"),
                         log::client());
    }
    phase_ = phase::connecting;
    notify(session_event::handshake_done);
    connect_ = std::make_unique<connect_state>();
    connect_->order = ctx_.backends->order();
    connect_->started = now;
    connect_->walk_deadline = now + std::chrono::milliseconds(cfg().timeouts.connect_total_ms);
    next_backend();
}

io_result session::read(side s, char* data, std::size_t size) {
    return s == side::client ? tls_read(ssl_.get(), data, size) : backend_.read(data, size);
}

io_result session::write(side s, const char* data, std::size_t size) {
    return s == side::client ? tls_write(ssl_.get(), data, size) : backend_.write(data, size);
}

// Moves bytes from p.from to p.to until one of them would block. A buffer is held only
// while bytes are in flight; no new read starts before the previous write finished.
void session::step(pump& p) {
    std::size_t moved = 0;
    while (phase_ == phase::relaying) {
        if (p.off < p.len) {
            const auto r = write(p.to, p.buf.get() + p.off, p.len - p.off);
            if (r.status == io_status::ok) {
                p.off += r.bytes;
                last_activity_ = clock::now();
                if (p.off == p.len) {
                    // Only a buffer taken whole ends a stall: a peer that takes a little now
                    // and then (a trickle, or window probes) never lets it drain, and is as
                    // stuck as one that takes nothing.
                    p.stalled_since = clock::time_point::max();
                    p.buf.reset();
                    p.len = p.off = 0;
                }
                continue;
            }
            if (r.status == io_status::want_read || r.status == io_status::want_write) {
                if (p.stalled_since == clock::time_point::max()) {
                    p.stalled_since = clock::now();
                    arm_timer();
                }
                return wait(p.to, r.status, &p);
            }
            return finish(p.to == side::client ? close_reason::client_error : close_reason::backend_error,
                          r.error.empty() ? "peer closed while data was pending" : r.error);
        }
        if (p.read_eof) {
            if (p.close_pending && !pass_end(p)) return;
            if (up_.read_eof && down_.read_eof && !up_.close_pending && !down_.close_pending)
                return finish(close_reason::done);
            return;
        }
        if (!p.buf) p.buf = (*ctx_.pool).take();
        const auto r = read(p.from, p.buf.get(), buffer_pool::buffer_size);
        switch (r.status) {
            case io_status::ok:
                p.len = r.bytes;
                p.off = 0;
                ctx_.ctr.add(p.bytes, r.bytes);
                (p.from == side::client ? bytes_up_ : bytes_down_) += r.bytes;
                last_activity_ = clock::now();
                // Fairness: a peer that always has more to send gets a turn of step_budget
                // bytes, then waits behind the other connections on this thread.
                if ((moved += r.bytes) >= step_budget) {
                    asio::post(executor(), [self = shared_from_this(), &p] { self->guarded([&] { self->step(p); }); });
                    return;
                }
                continue;
            case io_status::want_read:
            case io_status::want_write:
                p.buf.reset();
                return wait(p.from, r.status, &p);
            case io_status::eof:
                p.buf.reset();
                if (p.from == side::client && r.truncated) note_truncated("TCP end of stream");
                p.read_eof = true;
                p.close_pending = true;
                half_close_deadline_ = clock::now() + std::chrono::milliseconds(cfg().timeouts.half_close_ms);
                arm_timer();
                continue;
            case io_status::error:
                return finish(p.from == side::client ? close_reason::client_error : close_reason::backend_error,
                              r.error);
        }
    }
}

// Passes an end of stream on: close_notify and a send shutdown towards the client, or a
// send shutdown towards the backend, once every byte before it is out. Returns false when it
// has to wait.
bool session::pass_end(pump& p) {
    if (p.to == side::client && !p.end_queued) {
        const auto r = tls_shutdown(ssl_.get());
        if (r.status == io_status::want_read || r.status == io_status::want_write) {
            wait(side::client, r.status, &p);
            return false;
        }
        p.end_queued = true;  // sent, or failed: the send shutdown below ends the stream either way
    }
    if (!io(p.to).flushed()) {
        wait(p.to, io_status::want_write, &p);
        return false;
    }
    boost::system::error_code ec;
    io(p.to).socket().shutdown(tcp::socket::shutdown_send, ec);
    p.close_pending = false;
    return true;
}

void session::wait(side s, io_status want, pump* p) {
    io(s).wait(want, [self = shared_from_this(), p, s](const boost::system::error_code& ec) {
        if (self->phase_ == phase::closed) return;
        self->guarded([&] {
            if (ec)
                return self->finish(s == side::client ? close_reason::client_error : close_reason::backend_error,
                                    "wait: " + ec.message());
            if (p == nullptr && self->awaiting_proxy_)
                self->read_proxy_header();
            else if (p == nullptr)
                self->do_handshake();
            else
                self->step(*p);
        });
    });
}

session::clock::time_point session::next_deadline() const {
    auto t = std::min(phase_deadline_, half_close_deadline_);
    const auto& to = cfg().timeouts;
    if (phase_ == phase::relaying) {
        if (to.idle_ms > 0) t = std::min(t, last_activity_ + std::chrono::milliseconds(to.idle_ms));
        for (const pump* p : {&up_, &down_})
            if (p->stalled_since != clock::time_point::max())
                t = std::min(t, p->stalled_since + std::chrono::milliseconds(to.write_stall_ms));
    }
    return t;
}

void session::arm_timer() {
    const auto next = next_deadline();
    if (next == clock::time_point::max() || (timer_armed_ && timer_expiry_ <= next)) return;
    timer_armed_ = true;
    timer_expiry_ = next;
    timer_.expires_at(next);
    timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
        if (ec == asio::error::operation_aborted || self->phase_ == phase::closed) return;
        self->guarded([&] { self->on_timer(); });
    });
}

// Deadlines are compared with the clock, not trusted from the timer: activity moves the
// idle deadline forward without touching the timer.
void session::on_timer() {
    timer_armed_ = false;
    timer_expiry_ = clock::time_point::max();
    const auto now = clock::now();
    const auto& to = cfg().timeouts;
    if (phase_deadline_ <= now) {
        if (phase_ == phase::connecting) return on_connect_timeout();
        if (awaiting_proxy_)
            return refuse_proxy(counter::rejected_proxy_timeout, "no complete PROXY header within handshake_ms");
        return finish(close_reason::handshake_timeout, "no handshake within handshake_ms");
    }
    if (phase_ == phase::relaying) {
        for (const pump* p : {&up_, &down_})
            if (p->stalled_since != clock::time_point::max() &&
                p->stalled_since + std::chrono::milliseconds(to.write_stall_ms) <= now)
                return finish(close_reason::write_stall,
                              p->to == side::client ? "client stopped reading" : "backend stopped reading");
        if (to.idle_ms > 0 && last_activity_ + std::chrono::milliseconds(to.idle_ms) <= now)
            return finish(close_reason::idle_timeout, "no data within idle_ms");
    }
    if (half_close_deadline_ <= now)
        return finish(close_reason::half_close_timeout, "other side still open after half_close_ms");
    arm_timer();
}

void session::finish(close_reason why, const std::string& detail, std::string_view reason) {
    if (phase_ == phase::closed) return;
    auto& c = ctx_.ctr;
    const auto& name = cfg().name;
    // Built only for a line that is written (a normal close writes none).
    const auto who = [&] { return log::str("listener '", name, "' client ", peer_, ": "); };

    if (phase_ == phase::handshake) {
        c.sub(counter::handshakes_in_progress);
        // A refusal was counted by its own reason, and no handshake was tried.
        if (why != close_reason::refused)
            c.add(why == close_reason::handshake_timeout ? counter::handshakes_timeout : counter::handshakes_failed);
    }
    switch (why) {
        case close_reason::done:
            TB_LOG_DEBUG(who(), "closed (", to_string(why), ")");
            break;
        case close_reason::handshake_failed:
        case close_reason::handshake_timeout:
            log::limited(log::level::warning, log::str(name, ":", to_string(why)),
                         log::str(who(), to_string(why), ": ", detail), log::client());
            break;
        case close_reason::backend_failed:
            c.add(counter::backend_connect_failures);
            log::limited(log::level::error, log::str(name, ":backend"),
                         log::str(who(), "backend unavailable: ", detail), log::client());
            break;
        case close_reason::idle_timeout:
        case close_reason::write_stall:
        case close_reason::half_close_timeout:
        case close_reason::drain:
            c.add(why == close_reason::idle_timeout         ? counter::timeouts_idle
                  : why == close_reason::write_stall        ? counter::timeouts_write_stall
                  : why == close_reason::half_close_timeout ? counter::timeouts_half_close
                                                            : counter::timeouts_drain);
            log::limited(log::level::warning, log::str(name, ":", to_string(why)),
                         log::str(who(), "closed by timeout (", to_string(why), "): ", detail), log::client());
            break;
        case close_reason::refused:
            break;  // logged, rate-limited, where it was decided
        case close_reason::client_error:
            // A reset or an error before the client's stream ended: the backend is reset too, so
            // it cannot take the cut stream for a complete one.
            if (phase_ == phase::relaying && !up_.read_eof) c.add(counter::client_truncated);
            [[fallthrough]];
        case close_reason::backend_error:
            log::limited(log::level::info, log::str(name, ":", to_string(why)),
                         log::str(who(), to_string(why), ": ", detail), log::client());
            break;
    }

    const auto ended = clock::now();
    if (phase_ == phase::relaying) {
        observe(histogram::session_duration,
                static_cast<std::uint64_t>(
                    std::chrono::duration_cast<std::chrono::milliseconds>(ended - started_).count()));
        observe(histogram::session_bytes, bytes_up_ + bytes_down_);
    }
    log_connection(why, ended, reason);
    phase_ = phase::closed;
    timer_.cancel();
    // A peer that stopped reading will not take what is still queued for it: reset. A client
    // stream cut by a reset or error: the backend gets a reset, not an end of stream.
    client_.close(why == close_reason::write_stall);
    backend_.close(why == close_reason::write_stall || why == close_reason::client_error);
    up_.buf.reset();
    down_.buf.reset();
    close_out();
    notify(session_event::closed);
}

}  // namespace tlsbroker::core
