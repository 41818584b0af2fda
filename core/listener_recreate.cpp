// The re-create step: a new listening socket for the endpoint, without losing the
// connections that wait in the old socket's accept queue.
//
//   Linux:   bind the replacement beside the old socket (SO_REUSEPORT), steer new
//            connections to it, accept what is left in the old queue, close the old socket.
//            Only a handshake in flight at the instant of the close (microseconds on a LAN)
//            can be lost; none of the queued connections is.
//   Windows: no port sharing without letting other processes steal the port. The old queue
//            is accepted until empty, then the old socket is closed and the new one bound:
//            connections that arrive in between (the time of one close and one bind) are
//            refused or reset. See README, "Watchdog".
#include <boost/asio/strand.hpp>

#include "core/listener.hpp"
#include "core/listener_port_sharing.hpp"
#include "core/log.hpp"

namespace tlsbroker::core {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

bool listener::recreate_socket() {
    ++generation_;  // completions of the old socket arm nothing from here on (see on_accept)
    accept_outstanding_ = false;
    boost::system::error_code ec;
    acceptor_.cancel(ec);  // an accept that already took a connection still delivers it
    tcp::acceptor old = std::move(acceptor_);
    acceptor_ = tcp::acceptor(strand_);

    tcp::acceptor fresh(strand_);
    bool shared = false;
    if (old.is_open() && set_port_sharing(old, true, ec)) {
        try {
            fresh = make_acceptor(true);
            shared = true;
        } catch (const boost::system::system_error& e) {
            ec = e.code();
        }
    }
    if (old.is_open() && !shared)
        log::limited(log::level::warning, cfg_->name + ":recreate-shared",
                     log::str("listener '", cfg_->name, "': cannot bind the new socket beside the old one (",
                              ec.message(), "); connections arriving while it is re-created may be refused"));
    if (shared && !steer_to_newest(fresh, ec))
        log::limited(log::level::warning, cfg_->name + ":recreate-steer",
                     log::str("listener '", cfg_->name, "': cannot steer new connections to the new socket (",
                              ec.message(), "); some arriving while it is re-created may be reset"));
    const auto kept = drain_queue(old);
    old.close(ec);

    if (shared) {
        set_port_sharing(fresh, false, ec);  // exclusive again: nobody else binds beside it
    } else {
        try {
            fresh = make_acceptor(false);
        } catch (const boost::system::system_error& e) {
            log::limited(log::level::error, cfg_->name + ":recreate",
                         log::str("listener '", cfg_->name, "' cannot re-create its socket: ", e.code().message(),
                                  " (retrying with back-off)"));
            return false;
        }
    }
    acceptor_ = std::move(fresh);
    bound_ = acceptor_.local_endpoint(ec);
    counters_.add(counter::listener_recreations);
    TB_LOG_WARN("listener '", cfg_->name, "' listening socket re-created on ", bound_, "; ", kept,
                " connections waiting in the old socket's queue were kept");
    return true;
}

std::size_t listener::drain_queue(tcp::acceptor& old) {
    if (!old.is_open()) return 0;
    boost::system::error_code ec;
    old.non_blocking(true, ec);
    if (ec) return 0;
    // The queue holds at most the backlog; the bound only matters when steering failed and
    // new connections keep landing in the old socket.
    const std::size_t limit = 2 * static_cast<std::size_t>(cfg_->backlog) + 64;
    std::size_t n = 0;
    while (n < limit) {
        tcp::socket s(old.accept(asio::make_strand(loops_.next()), ec));
        if (ec == asio::error::would_block || ec == asio::error::try_again) break;
        if (ec == asio::error::connection_aborted || ec == asio::error::interrupted) continue;
        if (ec) break;  // the old socket is broken: nothing more to take from it
        ++n;
        accepts_.fetch_add(1);
        take(std::move(s));
    }
    return n;
}

}  // namespace tlsbroker::core
