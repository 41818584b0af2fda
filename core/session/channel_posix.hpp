// The POSIX half of a channel (epoll readiness): read() and write() are non-blocking calls,
// and wait() is the socket's async_wait. Asio re-arms the socket (epoll_ctl) for every
// async_wait, and that call reports data that arrived in between, so one system call does
// the work of two. Writes are not batched: each is one system call.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/system/error_code.hpp>
#include <cstddef>
#include <memory>
#include <utility>

#include "core/session/tls_io.hpp"

namespace tlsbroker::core {

class channel_posix {
public:
    using socket_type = boost::asio::ip::tcp::socket;

    // recv/send with MSG_DONTWAIT, so that a socket works here whether or not it was switched
    // to non-blocking mode (accepted sockets are not: see socket_options.hpp).
    static std::size_t receive(socket_type& s, char* data, std::size_t size, boost::system::error_code& ec);
    io_result write(socket_type& s, boost::system::error_code& last_error, const char* data, std::size_t size);

    bool flushed() const { return true; }
    void begin_batch() {}
    io_result end_batch(socket_type&, boost::system::error_code&) { return {}; }
    void set_owner(const std::weak_ptr<void>& /*owner*/) {}

    template <class Handler>
    void wait(socket_type& s, io_status want, Handler&& h) {
        s.async_wait(want == io_status::want_read ? socket_type::wait_read : socket_type::wait_write,
                     std::forward<Handler>(h));
    }
};

}  // namespace tlsbroker::core
