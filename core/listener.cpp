#include "core/listener.hpp"

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/post.hpp>

#include "core/accept_error.hpp"
#include "core/listener_port_sharing.hpp"
#include "core/log.hpp"
#include "core/proxy_accept.hpp"
#include "core/session.hpp"
#include "core/socket_options.hpp"


namespace tlsbroker::core {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

tcp::endpoint bind_endpoint(const config::endpoint& e) {
    if (e.host.empty() || e.host == "*" || e.host == "0.0.0.0") return {asio::ip::address_v4::any(), e.port};
    if (e.host == "::") return {asio::ip::address_v6::any(), e.port};
    return {asio::ip::make_address(e.host), e.port};
}

listener::listener(event_loops& loops, config::config_ptr root, std::size_t index,
                   counter_block& own, counter_block& total, buffer_pool& pool,
                   std::shared_ptr<endpoint_admission> admission, std::shared_ptr<connection_registry> registry)
    : ioc_(loops.control()),
      loops_(loops),
      root_(std::move(root)),
      cfg_(&root_->listeners.at(index)),
      counters_(own, total),
      pool_(pool),
      backends_(std::make_shared<backend_set>(*cfg_, counters_)),
      admission_(std::move(admission)),
      registry_(std::move(registry)),
      strand_(asio::make_strand(ioc_)),
      acceptor_(strand_),
      retry_timer_(strand_),
      drain_timer_(strand_) {}

listener::~listener() = default;

void listener::prepare() {
    if (tls_) return;
    try {
        tls_ = std::make_shared<tls_context>(cfg_->tls);
    } catch (const std::exception& e) {
        throw std::runtime_error("listener '" + cfg_->name + "': TLS: " + e.what());
    }
}

void listener::claim_admission() {
    admission_->configure(endpoint_admission::limits_of(*cfg_));
    admission_->on_slot_freed([w = weak_from_this()] {
        if (auto self = w.lock()) self->resume_below_limit();
    });
}

void listener::start() {
    prepare();
    claim_admission();
    try {
        open();
    } catch (const boost::system::system_error& e) {
        throw std::runtime_error("listener '" + cfg_->name + "' cannot listen on " + cfg_->listen.text +
                                 ": " + e.code().message());
    }
    TB_LOG_INFO("listener '", cfg_->name, "' accepting on ", bound_, " (backlog ", cfg_->backlog,
                ", max_connections ", cfg_->max_connections, ")");
    backends_->start_checks(ioc_);
    asio::post(strand_, [self = shared_from_this()] { self->do_arm(); });
}

void listener::start_adopting(std::intptr_t listening_socket) {
    adopted_ = listening_socket;
    start();
}

void listener::open() {
    acceptor_ = make_acceptor(false);
    bound_ = acceptor_.local_endpoint();
}

tcp::acceptor listener::make_acceptor(bool share_port) {
    const auto ep = bound_.port() != 0 ? bound_ : bind_endpoint(cfg_->listen);
    tcp::acceptor a(strand_);
    if (adopted_ >= 0) {
        // Taken over from the listener this one replaces; listen() again applies the backlog.
        const auto fd = adopted_;
        adopted_ = -1;
        a.assign(ep.protocol(), static_cast<tcp::acceptor::native_handle_type>(fd));
        a.listen(static_cast<int>(cfg_->backlog));
        return a;
    }
    a.open(ep.protocol());
#ifndef _WIN32
    // POSIX: lets a re-created socket bind while old connections sit in TIME_WAIT. Windows
    // would let another process steal the port with it, so it is left off there.
    a.set_option(asio::socket_base::reuse_address(true));
#endif
    if (share_port) {
        boost::system::error_code ec;
        if (!set_port_sharing(a, true, ec)) throw boost::system::system_error(ec, "SO_REUSEPORT");
    }
    if (ep.address().is_v6()) a.set_option(asio::ip::v6_only(true));
    a.bind(ep);
    a.listen(static_cast<int>(cfg_->backlog));
    return a;
}

void listener::set_state(listener_state s) { state_.store(s); }

void listener::do_arm() {
    if (stopping_) return set_state(listener_state::stopped);
    if (admission_->at_limit()) {
        if (state_.load() != listener_state::paused_at_limit) {
            counters_.add(counter::accept_pauses);
            log::limited(log::level::warning, cfg_->name + ":paused",
                         log::str("listener '", cfg_->name, "' paused: ", admission_->active(),
                                  " connections reached max_connections; the backlog holds new ones"));
        }
        return set_state(listener_state::paused_at_limit);
    }
    set_state(listener_state::accepting);
    accept_outstanding_ = true;
    last_armed_ms_ = unix_ms_now();
    if (faults_.lose_next_arm.exchange(false)) return;  // test seam: a lost completion
    acceptor_.async_accept(
        asio::make_strand(loops_.next()),  // the connection's loop, for its whole life
        asio::bind_executor(strand_, [self = shared_from_this(), gen = generation_](
                                         const boost::system::error_code& ec, tcp::socket sock) {
            self->on_accept(ec, std::move(sock), gen);
        }));
}

// Every path below ends with the listener accepting, backing off, paused or stopped.
void listener::on_accept(const boost::system::error_code& ec_in, tcp::socket sock, std::uint64_t generation) {
    if (generation != generation_) {
        // A completion from a socket since replaced: it arms nothing, but a connection it
        // took is a client like any other.
        if (!ec_in && sock.is_open()) {
            accepts_.fetch_add(1);
            take(std::move(sock));
        }
        return;
    }
    accept_outstanding_ = false;
    last_completed_ms_ = unix_ms_now();

    auto ec = ec_in;
    if (!ec && faults_.fail_next.load() > 0) {
        faults_.fail_next.fetch_sub(1);
        ec.assign(faults_.fail_code.load(), boost::system::system_category());
        boost::system::error_code ignored;
        sock.close(ignored);
    }

    if (!ec) {
        backoff_.reset();
        accepts_.fetch_add(1);
        take(std::move(sock));
        if (faults_.drop_rearm.exchange(false)) return;  // test seam: the field bug, on purpose
        return do_arm();
    }

    const auto d = classify_accept_error(ec, stopping_);
    switch (d.error_class) {
    case accept_error_class::connection: counters_.add(counter::accept_errors_connection); break;
    case accept_error_class::resource:
    case accept_error_class::unknown: counters_.add(counter::accept_errors_resource); break;
    case accept_error_class::listener: counters_.add(counter::accept_errors_listener); break;
    case accept_error_class::cancelled: break;
    }
    switch (d.action) {
    case accept_action::stop:
        return set_state(listener_state::stopped);
    case accept_action::retry_now:
        if (d.error_class != accept_error_class::cancelled)
            log::limited(log::level::info, cfg_->name + ":accept-connection",
                         log::str("listener '", cfg_->name, "' accept: ", ec.message(), " (accepting again)"));
        return do_arm();
    case accept_action::back_off: {
        const auto delay = backoff_.next();
        counters_.add(counter::accept_pauses);
        log::limited(log::level::error, cfg_->name + ":accept-resource",
                     log::str("listener '", cfg_->name, "' accept: ", ec.message(), " (",
                              to_string(d.error_class), " error; backing off ", delay.count(), " ms)"));
        return schedule_retry(delay, false);
    }
    case accept_action::recreate_listener: {
        const auto delay = backoff_.next();
        log::limited(log::level::error, cfg_->name + ":accept-listener",
                     log::str("listener '", cfg_->name, "' accept: ", ec.message(),
                              " (listening socket broken; re-creating it in ", delay.count(), " ms)"));
        return schedule_retry(delay, true);
    }
    }
}

void listener::take(tcp::socket sock) {
    boost::system::error_code ec;
    const auto remote = sock.remote_endpoint(ec);
    counters_.set(counter::last_accept_unix_ms, unix_ms_now());
    if (ec) {
        // The client went away right after connecting: close this socket only.
        counters_.add(counter::rejected_sockopt);
        log::limited(log::level::info, cfg_->name + ":sockopt",
                     log::str("listener '", cfg_->name, "': new connection gone before it was served (", ec.message(),
                              "); closed it, accepting on"));
        sock.close(ec);
        return;
    }
    if (admission_->take_probe(remote)) {
        sock.close(ec);
        return;
    }
    if (admission_->at_limit()) {
        // An accept armed while there was room, completed after the endpoint's last slot went
        // elsewhere (a replaced listener still accepting during a reload hand-over): the
        // limit holds, so this one is closed rather than served over it.
        counters_.add(counter::rejected_at_limit);
        log::limited(log::level::warning, cfg_->name + ":at-limit",
                     log::str("listener '", cfg_->name, "' closed ", remote, ": max_connections (",
                              admission_->max_connections(), ") reached while its accept was under way"));
        sock.close(ec);
        return;
    }
    // accept_proxy: a trusted proxy's connection takes only the connection slot here; the
    // session admits it against the client address in its PROXY header once that is read
    // (core/proxy_accept.hpp). Every other connection is admitted by its TCP peer now.
    const bool via_proxy = accepts_proxy(*cfg_) && trusted_proxy(*cfg_, remote.address());
    auto a = via_proxy ? endpoint_admission::admission{endpoint_admission::verdict::admitted, admission_->reserve()}
                       : admission_->admit(remote.address());
    if (!a.slot) {
        note_source_refusal(counters_, *cfg_, remote, a.outcome == endpoint_admission::verdict::too_many_from_source);
        sock.close(ec);
        return;
    }
    // The rest (socket options, the session) runs on the connection's own strand, so that the
    // accept path re-arms at once: under Wine each socket option is a round trip to the Wine
    // server, and done here they made every accept wait for the last one's set-up.
    const auto connection_strand = sock.get_executor();
    asio::post(connection_strand, [self = shared_from_this(), sock = std::move(sock), remote, via_proxy,
                                   slot = std::move(a.slot)]() mutable {
        self->serve(std::move(sock), remote, via_proxy, std::move(slot));
    });
}

void listener::serve(tcp::socket sock, const tcp::endpoint& remote, bool via_proxy, connection_slot slot) {
    const auto ec = apply_socket_options(sock, *cfg_);
    if (ec) {
        // The client went away right after connecting: close this socket only (the slot
        // goes back when `slot` goes out of scope).
        counters_.add(counter::rejected_sockopt);
        log::limited(log::level::info, cfg_->name + ":sockopt",
                     log::str("listener '", cfg_->name, "': new connection unusable (", ec.message(),
                              "); closed it, accepting on"));
        boost::system::error_code ignored;
        sock.close(ignored);
        return;
    }
    counters_.add(counter::connections_accepted);
    slot.track(counters_);
    // If anything below throws (out of memory), the slot in the context is given back as
    // the exception unwinds.
    session_context ctx{root_, cfg_, tls_, backends_, &pool_, counters_, std::move(slot), registry_, {}, via_proxy};
    auto s = std::make_shared<session>(std::move(ctx), std::move(sock), remote);
    registry_->add(s);
    s->start();  // on the session's strand already: the socket's executor is its strand
}

void listener::resume_below_limit() {
    asio::post(strand_, [self = shared_from_this()] {
        if (self->state_.load() == listener_state::paused_at_limit && !self->stopping_ &&
            !self->admission_->at_limit()) {
            self->counters_.add(counter::accept_resumes);
            TB_LOG_INFO("listener '", self->cfg_->name, "' resumed accepting (", self->admission_->active(),
                        " connections)");
            self->do_arm();
        }
    });
}

void listener::schedule_retry(std::chrono::milliseconds delay, bool recreate) {
    set_state(listener_state::backing_off);
    timer_pending_ = true;
    const auto seq = ++retry_seq_;
    retry_timer_.expires_after(delay);
    retry_timer_.async_wait([self = shared_from_this(), recreate, seq](const boost::system::error_code& ec) {
        // A cancelled retry does nothing: whoever cancelled it (stop, hand-over, a watchdog
        // step) decides what comes next. Only the retry scheduled last may arm.
        if (ec == asio::error::operation_aborted || seq != self->retry_seq_) return;
        self->timer_pending_ = false;
        if (self->stopping_) return self->set_state(listener_state::stopped);
        if (recreate) {
            // recreate_socket() logs, counts and keeps the old socket's queue; without an
            // open socket (a reload that had to bind anew, or a failed attempt) it binds.
            if (!self->recreate_socket()) return self->schedule_retry(self->backoff_.next(), true);
        } else {
            self->counters_.add(counter::accept_resumes);
        }
        self->do_arm();
    });
}

}  // namespace tlsbroker::core
