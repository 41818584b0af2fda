// One side of a session: a non-blocking socket and the way to wait on it. The relay logic
// (session.cpp) is the same on every platform; where the platforms differ is the channel's
// platform half (channel_platform.hpp chooses it): channel_posix.* (epoll readiness) or
// channel_iocp.* (I/O completion port), which say how each one waits and writes.
//
// Both: after a short read the socket is known to be empty, so the next read() says
// want_read without the system call that would only fail (EAGAIN), until a wait starts.
//
// A channel changes only on its session's strand.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/system/error_code.hpp>
#include <concepts>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "core/session/channel_platform.hpp"
#include "core/session/tls_io.hpp"

namespace tlsbroker::core {

// What each platform half offers (channel_platform.hpp describes the members).
template <class P>
concept channel_platform_half = requires(P p, const P cp, boost::asio::ip::tcp::socket& s,
                                         boost::system::error_code& ec, char* in, const char* out, std::size_t n,
                                         std::weak_ptr<void> owner) {
    { P::receive(s, in, n, ec) } -> std::same_as<std::size_t>;
    { p.write(s, ec, out, n) } -> std::same_as<io_result>;
    { cp.flushed() } -> std::same_as<bool>;
    p.begin_batch();
    { p.end_batch(s, ec) } -> std::same_as<io_result>;
    p.set_owner(owner);
};
static_assert(channel_platform_half<channel_platform>);

// True when `ec` says "try again later" (EAGAIN, EWOULDBLOCK, WSAEWOULDBLOCK).
bool channel_would_block(const boost::system::error_code& ec);
// A failed non-blocking call: `want` when it would block, else an error kept in `last_error`.
io_result channel_failure(const boost::system::error_code& ec, io_status want, boost::system::error_code& last_error);

class channel {
public:
    using socket_type = boost::asio::ip::tcp::socket;

    explicit channel(socket_type s) : socket_(std::move(s)) {}
    explicit channel(const boost::asio::any_io_executor& ex) : socket_(ex) {}
    channel(const channel&) = delete;
    channel& operator=(const channel&) = delete;

    socket_type& socket() { return socket_; }

    // The object that owns this channel; a write still in flight keeps it alive.
    void set_owner(const std::weak_ptr<void>& owner) { platform_.set_owner(owner); }

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
    io_result write(const char* data, std::size_t size) { return platform_.write(socket_, last_error_, data, size); }

    // Bytes read ahead of their consumer (what followed a PROXY header in the same segment):
    // the next read() calls return them first, before anything from the socket.
    void unread(std::string_view bytes) { unread_.insert(0, bytes); }

    // True when every byte that write() took has been handed to the kernel.
    bool flushed() const { return platform_.flushed(); }

    // Between begin_batch() and end_batch(), a platform that batches (Windows) only collects
    // what write() is given and sends it in one call at end_batch(), which reports a failed
    // send. POSIX: no batching (each write is one system call).
    void begin_batch() { platform_.begin_batch(); }
    io_result end_batch() { return platform_.end_batch(socket_, last_error_); }

    // Calls h(error_code) once read() (want_read) or write() (want_write) is worth calling
    // again, or with an error when the socket failed or was closed.
    template <class Handler>
    void wait(io_status want, Handler&& h) {
        if (want == io_status::want_read) drained_ = false;  // the wait finds what arrives from here on
        platform_.wait(socket_, want, std::forward<Handler>(h));
    }

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
    [[no_unique_address]] channel_platform platform_;
};

}  // namespace tlsbroker::core
