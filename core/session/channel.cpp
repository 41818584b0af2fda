#include "core/session/channel.hpp"

#include <algorithm>
#include <cstring>

namespace tlsbroker::core {

namespace asio = boost::asio;

bool channel_would_block(const boost::system::error_code& ec) {
    return ec == asio::error::would_block || ec == asio::error::try_again;
}

io_result channel_failure(const boost::system::error_code& ec, io_status want, boost::system::error_code& last_error) {
    if (channel_would_block(ec)) return {want, 0, {}};
    last_error = ec;
    return {io_status::error, 0, ec.message()};
}

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
    const auto n = channel_platform::receive(socket_, data, size, ec);
    if (!ec && n < size) drained_ = true;
    return finish_read(n, ec);
}

// A record header: one socket read for what has arrived, the rest kept for the next calls.
io_result channel::read_small(char* data, std::size_t size) {
    thread_local char scratch[16 * 1024];
    boost::system::error_code ec;
    const auto n = channel_platform::receive(socket_, scratch, sizeof scratch, ec);
    if (ec) return finish_read(0, ec);
    if (n < sizeof scratch) drained_ = true;
    const auto mine = std::min(n, size);
    std::memcpy(data, scratch, mine);
    if (n > mine) unread_.assign(scratch + mine, n - mine);
    return {io_status::ok, mine, {}};
}

io_result channel::finish_read(std::size_t n, const boost::system::error_code& ec) {
    if (!ec) return {io_status::ok, n, {}};
    if (ec == asio::error::eof) {
        at_eof_ = true;
        return {io_status::eof, 0, {}};
    }
    return channel_failure(ec, io_status::want_read, last_error_);
}

void channel::close(bool reset) {
    boost::system::error_code ignored;
    if (!socket_.is_open()) return;
    socket_.cancel(ignored);
    if (reset) socket_.set_option(asio::socket_base::linger(true, 0), ignored);
    socket_.close(ignored);
}

}  // namespace tlsbroker::core
