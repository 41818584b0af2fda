#include "core/listener/listener.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>

#include "core/accept/proxy_accept.hpp"
#include "core/accept/socket_options.hpp"
#include "core/common/log.hpp"
#include "core/session/session.hpp"

namespace tlsbroker::core {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

tcp::endpoint bind_endpoint(const config::endpoint& e) {
    if (e.host.empty() || e.host == "*" || e.host == "0.0.0.0") return {asio::ip::address_v4::any(), e.port};
    if (e.host == "::") return {asio::ip::address_v6::any(), e.port};
    return {asio::ip::make_address(e.host), e.port};
}

namespace {

// Where accepted sockets inherit the listening socket's options, the listening socket gets
// them (and a socket the options cannot be set on is refused like one that cannot bind).
std::function<void(tcp::acceptor&)> listening_socket_preparer(const config::config_ptr& root,
                                                              const config::listener_config* cfg) {
    if constexpr (!accepted_sockets_inherit_options) return {};
    return [root, cfg](tcp::acceptor& a) {
        if (const auto ec = apply_listening_socket_options(a, *cfg))
            throw boost::system::system_error(ec, "socket options");
    };
}

}  // namespace

listener::listener(event_loops& loops, config::config_ptr root, std::size_t index, counter_block& own,
                   counter_block& total, buffer_pool& pool, std::shared_ptr<endpoint_admission> admission,
                   std::shared_ptr<connection_registry> registry, histogram_block* histograms)
    : ioc_(loops.control()),
      loops_(loops),
      root_(std::move(root)),
      cfg_(&root_->listeners.at(index)),
      counters_(own, total),
      histograms_(histograms),
      pool_(pool),
      backends_(std::make_shared<backend_set>(*cfg_, counters_)),
      admission_(std::move(admission)),
      registry_(std::move(registry)),
      loop_(std::make_shared<accept_loop>(
          ioc_, accept_loop_options{"listener '" + cfg_->name + "'", cfg_->name, static_cast<int>(cfg_->backlog), true,
                                    [&loops] { return asio::any_io_executor(asio::make_strand(loops.next())); },
                                    listener_accept_batch, listening_socket_preparer(root_, cfg_)})),
      drain_timer_(loop_->strand()) {}

listener::~listener() { loop_->stop(); }

void listener::prepare() {
    loop_->set_owner(weak_from_this());
    if (tls_) return;
    try {
        tls_ = std::make_shared<tls_context>(cfg_->name, cfg_->tls);
    } catch (const std::exception& e) {
        throw std::runtime_error("listener '" + cfg_->name + "': TLS: " + e.what());
    }
}

void listener::claim_admission() {
    admission_->configure(endpoint_admission::limits_of(*cfg_));
    admission_->on_slot_freed([w = weak_from_this()] {
        if (auto self = w.lock()) self->loop_->resume();  // a paused listener below its limit accepts again
    });
}

void listener::start() {
    prepare();
    claim_admission();
    try {
        loop_->set_endpoint(bind_endpoint(cfg_->listen));
        const auto adopt = adopted_;
        adopted_ = -1;
        loop_->open(adopt);
    } catch (const boost::system::system_error& e) {
        throw std::runtime_error("listener '" + cfg_->name + "' cannot listen on " + cfg_->listen.text + ": " +
                                 e.code().message());
    }
    const auto bound = log::str(loop_->local_endpoint());
    log::write_event(log::event::listener_bound, {{"listener", cfg_->name}, {"address", bound}},
                     log::str("listener '", cfg_->name, "' accepting on ", bound, " (backlog ", cfg_->backlog,
                              ", max_connections ", cfg_->max_connections, ")"));
    backends_->start_checks(ioc_);
    loop_->start();
}

void listener::start_adopting(std::intptr_t listening_socket) {
    adopted_ = listening_socket;
    start();
}

void listener::on_connection(tcp::socket sock) {
    boost::system::error_code ec;
    const auto remote = sock.remote_endpoint(ec);
    counters_.set(counter::last_accept_unix_ms, unix_ms_now());
    if (ec) {
        // The client went away right after connecting: close this socket only.
        counters_.add(counter::rejected_sockopt);
        log::limited(log::level::info, cfg_->name + ":sockopt",
                     log::str("listener '", cfg_->name, "': new connection gone before it was served (", ec.message(),
                              "); closed it, accepting on"),
                     log::client());
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
        log::limited_event(log::event::connection_limit_reached, cfg_->name + ":at-limit",
                           {{"listener", cfg_->name}, {"max_connections", log::str(admission_->max_connections())}},
                           log::str("listener '", cfg_->name, "' closed ", remote, ": max_connections (",
                                    admission_->max_connections(), ") reached while its accept was under way"));
        sock.close(ec);
        return;
    }
    // accept_proxy: a trusted proxy's connection takes only the connection slot here; the
    // session admits it against the client address in its PROXY header once that is read
    // (core/accept/proxy_accept.hpp). Every other connection is admitted by its TCP peer now.
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
    // Linux: the socket came with its options from the listening socket (socket_options.hpp).
    const auto ec = accepted_sockets_inherit_options ? boost::system::error_code{} : apply_socket_options(sock, *cfg_);
    if (ec) {
        // The client went away right after connecting: close this socket only (the slot
        // goes back when `slot` goes out of scope).
        counters_.add(counter::rejected_sockopt);
        log::limited(log::level::info, cfg_->name + ":sockopt",
                     log::str("listener '", cfg_->name, "': new connection unusable (", ec.message(),
                              "); closed it, accepting on"),
                     log::client());
        boost::system::error_code ignored;
        sock.close(ignored);
        return;
    }
    counters_.add(counter::connections_accepted);
    slot.track(counters_);
    // If anything below throws (out of memory), the slot in the context is given back as
    // the exception unwinds.
    session_context ctx{root_,           cfg_,      tls_, backends_, &pool_, counters_,
                        std::move(slot), registry_, {},   via_proxy, own_,   histograms_};
    auto s = std::make_shared<session>(std::move(ctx), std::move(sock), remote);
    registry_->add(s);
    s->start();  // on the session's strand already: the socket's executor is its strand
}

void listener::on_event(accept_event e) {
    switch (e) {
        case accept_event::error_connection:
            return counters_.add(counter::accept_errors_connection);
        case accept_event::error_resource:
            counters_.set(counter::resources_exhausted_unix_ms, unix_ms_now());  // /healthz says so
            return counters_.add(counter::accept_errors_resource);
        case accept_event::error_listener:
            return counters_.add(counter::accept_errors_listener);
        case accept_event::paused_at_limit:
            counters_.add(counter::accept_pauses);
            log::limited_event(log::event::connection_limit_reached, cfg_->name + ":paused",
                               {{"listener", cfg_->name}, {"max_connections", log::str(cfg_->max_connections)}},
                               log::str("listener '", cfg_->name, "' paused: ", admission_->active(),
                                        " connections reached max_connections; the backlog holds new ones"));
            return;
        case accept_event::resumed_below_limit:
            counters_.add(counter::accept_resumes);
            TB_LOG_INFO("listener '", cfg_->name, "' resumed accepting (", admission_->active(), " connections)");
            return;
        case accept_event::backing_off:
            return counters_.add(counter::accept_pauses);
        case accept_event::resumed_after_backoff:
            return counters_.add(counter::accept_resumes);
        case accept_event::socket_recreated:
            return counters_.add(counter::listener_recreations);
    }
}

}  // namespace tlsbroker::core
