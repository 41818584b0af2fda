// The Windows half of a channel (I/O completion port). read() is a non-blocking recv.
// Waiting to read is a zero-byte overlapped WSARecv, which completes when data has arrived,
// so an idle connection pins no buffer. A write that the socket cannot take at once is copied
// and finished by an overlapped send; waiting to write is waiting for that send. Nothing here
// uses async_wait, which Asio serves on Windows with a select() thread over every socket.
//
// Between begin_batch() and end_batch(), write() only collects the bytes (the records of one
// SSL_write), and end_batch() hands them to the socket in one send, where under Wine every
// send is a round trip to its server. The collected bytes live in a per-thread buffer, so a
// connection holds none. end_batch() reports a failed send.
#pragma once

#include <winsock2.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/windows/overlapped_ptr.hpp>
#include <boost/system/error_code.hpp>
#include <cstddef>
#include <functional>
#include <memory>
#include <utility>
#include <vector>

#include "core/session/tls_io.hpp"

namespace tlsbroker::core {

// Tests: starts the zero-byte receive of a read wait in place of WSARecv, so that a result
// Wine cannot produce on demand can be injected. Returns 0 (done at once: a completion
// follows), WSA_IO_PENDING, or an error code (no completion follows: the wait completes with
// it, as when WSARecv fails at once). nullptr restores WSARecv.
using receive_wait_starter = DWORD (*)(SOCKET socket, OVERLAPPED* overlapped);
void set_receive_wait_starter_for_tests(receive_wait_starter starter);

// The error a receive wait's completion reports, in Asio's portable terms where Asio's own
// operations use them: ERROR_NETNAME_DELETED (the peer reset a connection with a receive
// pending) becomes connection_reset.
boost::system::error_code receive_wait_error(const boost::system::error_code& ec);

class channel_iocp {
public:
    using socket_type = boost::asio::ip::tcp::socket;

    static std::size_t receive(socket_type& s, char* data, std::size_t size, boost::system::error_code& ec) {
        return s.read_some(boost::asio::buffer(data, size), ec);
    }
    io_result write(socket_type& s, boost::system::error_code& last_error, const char* data, std::size_t size);

    bool flushed() const { return !sending_; }
    void begin_batch() {
        if (!sending_) batching_ = true;
    }
    io_result end_batch(socket_type& s, boost::system::error_code& last_error);
    // The object that owns the channel; a write still in flight keeps it alive.
    void set_owner(std::weak_ptr<void> owner) { owner_ = std::move(owner); }

    template <class Handler>
    void wait(socket_type& s, io_status want, Handler&& h) {
        if (want == io_status::want_write) {
            if (sending_) {
                write_waiters_.emplace_back(std::forward<Handler>(h));
                return;
            }
            // Nothing in flight: the socket takes bytes again now.
            boost::asio::post(s.get_executor(), [h = std::forward<Handler>(h)]() mutable { h({}); });
            return;
        }
        boost::asio::windows::overlapped_ptr op(
            s.get_executor(), [h = std::forward<Handler>(h)](const boost::system::error_code& ec, std::size_t) mutable {
                h(receive_wait_error(ec));
            });
        start_receive_wait(s, op);
    }

private:
    static void start_receive_wait(socket_type& s, boost::asio::windows::overlapped_ptr& op);
    // Sends what the socket takes now; the rest is copied and finished by an overlapped send.
    // Sends what the socket takes now; with `all`, or when it takes nothing, an overlapped
    // send finishes the rest and the whole `size` is reported as written.
    io_result send_or_queue(socket_type& s, boost::system::error_code& last_error, const char* data, std::size_t size,
                            bool all);
    void on_sent(boost::system::error_code& last_error, const boost::system::error_code& ec);

    std::weak_ptr<void> owner_;
    std::unique_ptr<char[]> out_;  // bytes taken by write() and not yet sent
    bool sending_ = false;
    bool batching_ = false;
    std::vector<std::function<void(const boost::system::error_code&)>> write_waiters_;
};

}  // namespace tlsbroker::core
