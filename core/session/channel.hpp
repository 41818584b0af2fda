// One side of a session: a non-blocking socket and the way to wait on it. The relay logic
// (session.cpp) is the same on every platform; this class is the only place where the
// platforms differ.
//
// Both: after a short read the socket is known to be empty, so the next read() says
// want_read without the system call that would only fail (EAGAIN), until a wait starts.
//
// - POSIX (epoll readiness): read() and write() are non-blocking calls, and wait() is the
//   socket's async_wait. Asio re-arms the socket (epoll_ctl) for every async_wait, and that
//   call reports data that arrived in between, so one system call does the work of two.
// - Windows (I/O completion port): read() is a non-blocking recv. Waiting to read is a
//   zero-byte overlapped WSARecv, which completes when data has arrived, so an idle
//   connection pins no buffer. A write that the socket cannot take at once is copied and
//   finished by an overlapped send; waiting to write is waiting for that send. Nothing here
//   uses async_wait, which Asio serves on Windows with a select() thread over every socket.
//
// A channel changes only on its session's strand.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#ifdef _WIN32
#include <boost/asio/post.hpp>
#include <boost/asio/windows/overlapped_ptr.hpp>
#include <functional>
#include <vector>
#endif

#include "core/session/tls_io.hpp"

namespace tlsbroker::core {

class channel {
public:
    using socket_type = boost::asio::ip::tcp::socket;

    explicit channel(socket_type s) : socket_(std::move(s)) {}
    explicit channel(const boost::asio::any_io_executor& ex) : socket_(ex) {}
    channel(const channel&) = delete;
    channel& operator=(const channel&) = delete;

    socket_type& socket() { return socket_; }

    // The object that owns this channel; a write still in flight keeps it alive.
    void set_owner(std::weak_ptr<void> owner);

    // Non-blocking. read: ok (bytes > 0), want_read, eof or error. write: ok (bytes taken,
    // possibly fewer than offered), want_write or error. After want_read or want_write the
    // caller waits (wait()) before it tries again: a read after a short one says want_read
    // without asking the socket until a wait has been started.
    // A read of fewer than small_read_bytes (a TLS record header: OpenSSL 3.2 and later read
    // ahead only once application data flows, so a handshake asks for each record's header
    // and then its body) takes what the socket has in one call and keeps the rest for the
    // next reads, which under Wine saves three round trips to its server per read avoided.
    static constexpr std::size_t small_read_bytes = 16;
    io_result read(char* data, std::size_t size);
    io_result write(const char* data, std::size_t size);

    // Bytes read ahead of their consumer (what followed a PROXY header in the same segment):
    // the next read() calls return them first, before anything from the socket.
    void unread(std::string_view bytes) { unread_.insert(0, bytes); }

    // True when every byte that write() took has been handed to the kernel.
    bool flushed() const;

    // Windows: between begin_batch() and end_batch(), write() only collects the bytes (the
    // records of one SSL_write), and end_batch() hands them to the socket in one send, where
    // under Wine every send is a round trip to its server. The collected bytes live in a
    // per-thread buffer, so a connection holds none. end_batch() reports a failed send.
    // POSIX: no batching (each write is one system call, as before).
    void begin_batch();
    io_result end_batch();

    // Calls h(error_code) once read() (want_read) or write() (want_write) is worth calling
    // again, or with an error when the socket failed or was closed.
    template <class Handler>
    void wait(io_status want, Handler&& h);

    // Cancels what is pending and closes. With `reset`, unsent bytes are dropped and the
    // peer gets a reset (a peer that stopped reading would never take them). Pending
    // operations are cancelled first: under Wine a socket with an overlapped operation still
    // queued stays open (and established) after closesocket.
    void close(bool reset = false);

    // The system error of the last read or write that failed (the TLS layer reports it):
    // the system's own code on every platform (errno, or WSAGetLastError() on Windows), so a
    // reset is an error and never taken for an end of stream.
    const boost::system::error_code& last_error() const { return last_error_; }
    // True once a read has met the peer's end of stream (TCP FIN).
    bool at_eof() const { return at_eof_; }

private:
    io_result read_small(char* data, std::size_t size);
    io_result finish_read(std::size_t n, const boost::system::error_code& ec);

    socket_type socket_;
    boost::system::error_code last_error_;
    bool at_eof_ = false;
    bool drained_ = false;  // the last read took everything the socket had
    std::string unread_;
#ifdef _WIN32
    void start_receive_wait(boost::asio::windows::overlapped_ptr& op);
    void on_sent(const boost::system::error_code& ec);
    // Sends what the socket takes now; the rest is copied and finished by an overlapped send.
    io_result send_or_queue(const char* data, std::size_t size);

    std::weak_ptr<void> owner_;
    std::unique_ptr<char[]> out_;  // bytes taken by write() and not yet sent
    bool sending_ = false;
    bool batching_ = false;
    std::vector<std::function<void(const boost::system::error_code&)>> write_waiters_;
#endif
};

#ifdef _WIN32
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
#endif

template <class Handler>
void channel::wait(io_status want, Handler&& h) {
    if (want == io_status::want_read) drained_ = false;  // the wait finds what arrives from here on
#ifdef _WIN32
    if (want == io_status::want_write) {
        if (sending_) {
            write_waiters_.emplace_back(std::forward<Handler>(h));
            return;
        }
        // Nothing in flight: the socket takes bytes again now.
        boost::asio::post(socket_.get_executor(), [h = std::forward<Handler>(h)]() mutable { h({}); });
        return;
    }
    boost::asio::windows::overlapped_ptr op(
        socket_.get_executor(), [h = std::forward<Handler>(h)](const boost::system::error_code& ec,
                                                               std::size_t) mutable { h(receive_wait_error(ec)); });
    start_receive_wait(op);
#else
    socket_.async_wait(want == io_status::want_read ? socket_type::wait_read : socket_type::wait_write,
                       std::forward<Handler>(h));
#endif
}

}  // namespace tlsbroker::core
