// The accept loop's listening socket: binding it, and the re-create step, a new listening
// socket for the endpoint without losing the connections that wait in the old socket's
// accept queue.
//
//   Linux:   bind the replacement beside the old socket (SO_REUSEPORT), steer new
//            connections to it, accept what is left in the old queue, close the old socket.
//            Only a handshake in flight at the instant of the close (microseconds on a LAN)
//            can be lost; none of the queued connections is.
//   Windows: no port sharing without letting other processes steal the port. The old queue
//            is accepted until empty, then the old socket is closed and the new one bound:
//            connections that arrive in between (the time of one close and one bind) are
//            refused or reset. See core/README.md, "The watchdog".
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/strand.hpp>

#include "core/accept/accept_loop.hpp"
#include "core/accept/listener_port_sharing.hpp"
#include "core/accept/socket_options.hpp"
#include "core/common/log.hpp"

namespace tlsbroker::core {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

void accept_loop::open(std::intptr_t adopt) {
    adopted_ = adopt;
    acceptor_ = make_acceptor(false);
    set_bound(acceptor_.local_endpoint());
}

tcp::endpoint accept_loop::local_endpoint() const {
    std::lock_guard lock(bound_mutex_);
    return bound_;
}

void accept_loop::set_bound(const tcp::endpoint& e) {
    std::lock_guard lock(bound_mutex_);
    bound_ = e;
}

tcp::acceptor accept_loop::make_acceptor(bool share_port) {
    const auto bound = local_endpoint();
    const auto ep = bound.port() != 0 ? bound : wanted_;
    tcp::acceptor a(strand_);
    if (adopted_ >= 0) {
        // Taken over from the socket's previous owner; listen() again applies the backlog.
        const auto fd = adopted_;
        adopted_ = -1;
        a.assign(ep.protocol(), static_cast<tcp::acceptor::native_handle_type>(fd));
        if (options_.prepare_socket) options_.prepare_socket(a);
        a.listen(options_.backlog);
        return a;
    }
    a.open(ep.protocol());
    allow_rebind_over_time_wait(a);
    if (share_port) {
        boost::system::error_code ec;
        if (!set_port_sharing(a, true, ec)) throw boost::system::system_error(ec, "SO_REUSEPORT");
    }
    if (ep.address().is_v6() && options_.v6_only) a.set_option(asio::ip::v6_only(true));
    if (options_.prepare_socket) options_.prepare_socket(a);
    a.bind(ep);
    a.listen(options_.backlog);
    return a;
}

bool accept_loop::recreate_socket() {
    ++generation_;  // completions of the old socket arm nothing from here on (see on_accept)
    accept_outstanding_ = false;
    boost::system::error_code ec;
    acceptor_.cancel(ec);  // an accept that already took a connection still delivers it
    tcp::acceptor old = std::move(acceptor_);
    acceptor_ = tcp::acceptor(strand_);

    const auto& what = options_.what;
    const auto& key = options_.log_key;
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
        log::limited(log::level::warning, key + ":recreate-shared",
                     log::str(what, ": cannot bind the new socket beside the old one (", ec.message(),
                              "); connections arriving while it is re-created may be refused"));
    if (shared && !steer_to_newest(fresh, ec))
        log::limited(log::level::warning, key + ":recreate-steer",
                     log::str(what, ": cannot steer new connections to the new socket (", ec.message(),
                              "); some arriving while it is re-created may be reset"));
    const auto kept = drain_queue(old);
    old.close(ec);

    if (shared) {
        set_port_sharing(fresh, false, ec);  // exclusive again: nobody else binds beside it
    } else {
        try {
            fresh = make_acceptor(false);
        } catch (const boost::system::system_error& e) {
            log::limited(
                log::level::error, key + ":recreate",
                log::str(what, " cannot re-create its socket: ", e.code().message(), " (retrying with back-off)"));
            return false;
        }
    }
    acceptor_ = std::move(fresh);
    set_bound(acceptor_.local_endpoint(ec));
    notify(accept_event::socket_recreated);
    TB_LOG_WARN(what, " listening socket re-created on ", local_endpoint(), "; ", kept,
                " connections waiting in the old socket's queue were kept");
    return true;
}

std::size_t accept_loop::drain_queue(tcp::acceptor& old) {
    if (!old.is_open()) return 0;
    boost::system::error_code ec;
    old.non_blocking(true, ec);
    if (ec) return 0;
    const auto owner = owner_.lock();
    if (!owner) return 0;
    // The queue holds at most the backlog; the bound only matters when steering failed and
    // new connections keep landing in the old socket.
    const std::size_t limit = 2 * static_cast<std::size_t>(options_.backlog) + 64;
    std::size_t n = 0;
    while (n < limit) {
        tcp::socket s(old.accept(next_socket_executor(), ec));
        if (ec == asio::error::would_block || ec == asio::error::try_again) break;
        if (ec == asio::error::connection_aborted || ec == asio::error::interrupted) continue;
        if (ec) break;  // the old socket is broken: nothing more to take from it
        ++n;
        accepts_.fetch_add(1);
        owner->on_connection(std::move(s));
    }
    return n;
}

std::optional<std::uint32_t> accept_loop::queue_depth() const {
    return accept_queue_length(const_cast<tcp::acceptor&>(acceptor_));
}

std::intptr_t accept_loop::native_handle() const {
    return static_cast<std::intptr_t>(const_cast<tcp::acceptor&>(acceptor_).native_handle());
}

}  // namespace tlsbroker::core
