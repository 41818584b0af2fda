#include "core/session/channel.hpp"

#include <algorithm>
#include <boost/asio/write.hpp>
#include <cstring>

#ifdef __linux__
#include <sys/socket.h>

#include <cerrno>
#endif

namespace tlsbroker::core {

namespace asio = boost::asio;

namespace {

bool would_block(const boost::system::error_code& ec) {
    return ec == asio::error::would_block || ec == asio::error::try_again;
}

// Linux: recv/send with MSG_DONTWAIT, so that a socket works here whether or not it was
// switched to non-blocking mode (accepted sockets are not: see socket_options.hpp).
#ifdef __linux__
std::size_t receive_some(asio::ip::tcp::socket& s, char* data, std::size_t size, boost::system::error_code& ec) {
    ec.clear();
    if (size == 0) return 0;
    for (;;) {
        const auto n = ::recv(s.native_handle(), data, size, MSG_DONTWAIT);
        if (n > 0) return static_cast<std::size_t>(n);
        if (n == 0) {
            ec = asio::error::eof;
            return 0;
        }
        if (errno == EINTR) continue;
        ec.assign(errno, boost::system::system_category());
        return 0;
    }
}

std::size_t send_some(asio::ip::tcp::socket& s, const char* data, std::size_t size, boost::system::error_code& ec) {
    ec.clear();
    if (size == 0) return 0;
    for (;;) {
        const auto n = ::send(s.native_handle(), data, size, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n >= 0) return static_cast<std::size_t>(n);
        if (errno == EINTR) continue;
        ec.assign(errno, boost::system::system_category());
        return 0;
    }
}
#else
std::size_t receive_some(asio::ip::tcp::socket& s, char* data, std::size_t size, boost::system::error_code& ec) {
    return s.read_some(asio::buffer(data, size), ec);
}

std::size_t send_some(asio::ip::tcp::socket& s, const char* data, std::size_t size, boost::system::error_code& ec) {
    return s.write_some(asio::buffer(data, size), ec);
}
#endif

}  // namespace

io_result channel::read(char* data, std::size_t size) {
    if (!unread_.empty()) {
        const auto n = std::min(size, unread_.size());
        std::memcpy(data, unread_.data(), n);
        unread_.erase(0, n);
        if (unread_.empty()) std::string().swap(unread_);  // an idle connection keeps no buffer
        return {io_status::ok, n, {}};
    }
    // A read that came back short emptied the socket: the next one would only say "would
    // block" (a system call, and under Wine a round trip to its server). Wait instead: the
    // wait itself finds data that arrived in the meantime (on POSIX the reactor re-arms the
    // socket's readiness with epoll_ctl, which reports data already there; on Windows the
    // zero-byte receive completes at once).
    if (drained_) return {io_status::want_read, 0, {}};
    if (size < small_read_bytes) return read_small(data, size);
    boost::system::error_code ec;
    const auto n = receive_some(socket_, data, size, ec);
    if (!ec && n < size) drained_ = true;
    return finish_read(n, ec);
}

// A record header: one socket read for what has arrived, the rest kept for the next calls.
io_result channel::read_small(char* data, std::size_t size) {
    thread_local char scratch[16 * 1024];
    boost::system::error_code ec;
    const auto n = receive_some(socket_, scratch, sizeof scratch, ec);
    if (ec) return finish_read(0, ec);
    if (n < sizeof scratch) drained_ = true;
    const auto mine = std::min(n, size);
    std::memcpy(data, scratch, mine);
    if (n > mine) unread_.assign(scratch + mine, n - mine);
    return {io_status::ok, mine, {}};
}

io_result channel::finish_read(std::size_t n, const boost::system::error_code& ec) {
    if (!ec) return {io_status::ok, n, {}};
    if (would_block(ec)) return {io_status::want_read, 0, {}};
    if (ec == asio::error::eof) {
        at_eof_ = true;
        return {io_status::eof, 0, {}};
    }
    last_error_ = ec;
    return {io_status::error, 0, ec.message()};
}

void channel::close(bool reset) {
    boost::system::error_code ignored;
    if (!socket_.is_open()) return;
    socket_.cancel(ignored);
    if (reset) socket_.set_option(asio::socket_base::linger(true, 0), ignored);
    socket_.close(ignored);
}

#ifndef _WIN32

void channel::set_owner(std::weak_ptr<void>) {}

io_result channel::write(const char* data, std::size_t size) {
    boost::system::error_code ec;
    const auto n = send_some(socket_, data, size, ec);
    if (!ec) return {io_status::ok, n, {}};
    if (would_block(ec)) return {io_status::want_write, 0, {}};
    last_error_ = ec;
    return {io_status::error, 0, ec.message()};
}

bool channel::flushed() const { return true; }

void channel::begin_batch() {}

io_result channel::end_batch() { return {}; }

#else

void channel::set_owner(std::weak_ptr<void> owner) { owner_ = std::move(owner); }

bool channel::flushed() const { return !sending_; }

namespace {
// The bytes of the batch under way on this thread (see begin_batch()).
std::vector<char>& batch_bytes() {
    thread_local std::vector<char> bytes;
    return bytes;
}
}  // namespace

void channel::begin_batch() {
    if (!sending_) batching_ = true;
}

io_result channel::end_batch() {
    if (!batching_) return {};
    batching_ = false;
    auto& bytes = batch_bytes();
    if (bytes.empty()) return {};
    auto r = send_or_queue(bytes.data(), bytes.size());
    bytes.clear();
    if (bytes.capacity() > 256 * 1024) bytes.shrink_to_fit();  // an outsized batch is not kept
    return r;
}

io_result channel::write(const char* data, std::size_t size) {
    if (sending_) return {io_status::want_write, 0, {}};
    if (batching_) {
        auto& bytes = batch_bytes();
        bytes.insert(bytes.end(), data, data + size);
        return {io_status::ok, size, {}};
    }
    return send_or_queue(data, size);
}

io_result channel::send_or_queue(const char* data, std::size_t size) {
    boost::system::error_code ec;
    const auto n = send_some(socket_, data, size, ec);
    if (!ec) return {io_status::ok, n, {}};
    if (!would_block(ec)) {
        last_error_ = ec;
        return {io_status::error, 0, ec.message()};
    }
    // The socket cannot take the bytes now: keep a copy and let an overlapped send finish
    // it. The caller sees them as written and waits (want_write) before writing more.
    out_.reset(new char[size]);
    std::memcpy(out_.get(), data, size);
    sending_ = true;
    asio::async_write(socket_, asio::buffer(out_.get(), size),
                      [this, keep = owner_.lock()](const boost::system::error_code& e, std::size_t) { on_sent(e); });
    return {io_status::ok, size, {}};
}

void channel::on_sent(const boost::system::error_code& ec) {
    sending_ = false;
    out_.reset();
    if (ec) last_error_ = ec;
    auto waiters = std::move(write_waiters_);
    write_waiters_.clear();
    for (auto& w : waiters) w(ec);
}

namespace {
receive_wait_starter test_starter = nullptr;
}  // namespace

void set_receive_wait_starter_for_tests(receive_wait_starter starter) { test_starter = starter; }

boost::system::error_code receive_wait_error(const boost::system::error_code& ec) {
    if (ec.value() == ERROR_NETNAME_DELETED && ec.category() == asio::error::get_system_category())
        return asio::error::connection_reset;
    return ec;
}

void channel::start_receive_wait(asio::windows::overlapped_ptr& op) {
    DWORD err = 0;
    if (test_starter != nullptr) {
        err = test_starter(socket_.native_handle(), op.get());
    } else {
        WSABUF none{0, nullptr};
        DWORD received = 0;
        DWORD flags = 0;
        if (::WSARecv(socket_.native_handle(), &none, 1, &received, &flags, op.get(), nullptr) != 0)
            err = ::WSAGetLastError();
    }
    if (err != 0 && err != WSA_IO_PENDING) {
        // Failed at once: no completion packet will come; complete it here.
        op.complete(boost::system::error_code(static_cast<int>(err), asio::error::get_system_category()), 0);
        return;
    }
    // Pending, or done at once: the completion port delivers it either way.
    op.release();
}

#endif

}  // namespace tlsbroker::core
