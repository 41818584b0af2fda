#include "core/session/channel_iocp.hpp"

#include <boost/asio/write.hpp>
#include <cstring>

#include "core/session/channel.hpp"

namespace tlsbroker::core {

namespace asio = boost::asio;

namespace {

// The bytes of the batch under way on this thread (see begin_batch()).
std::vector<char>& batch_bytes() {
    thread_local std::vector<char> bytes;
    return bytes;
}

receive_wait_starter test_starter = nullptr;

}  // namespace

void set_receive_wait_starter_for_tests(receive_wait_starter starter) { test_starter = starter; }

boost::system::error_code receive_wait_error(const boost::system::error_code& ec) {
    if (ec.value() == ERROR_NETNAME_DELETED && ec.category() == asio::error::get_system_category())
        return asio::error::connection_reset;
    return ec;
}

io_result channel_iocp::end_batch(socket_type& s, boost::system::error_code& last_error) {
    if (!batching_) return {};
    batching_ = false;
    auto& bytes = batch_bytes();
    if (bytes.empty()) return {};
    // The caller has already been told these bytes were written: all of them must go.
    auto r = send_or_queue(s, last_error, bytes.data(), bytes.size(), true);
    bytes.clear();
    if (bytes.capacity() > 256 * 1024) bytes.shrink_to_fit();  // an outsized batch is not kept
    return r;
}

io_result channel_iocp::write(socket_type& s, boost::system::error_code& last_error, const char* data,
                              std::size_t size) {
    if (sending_) return {io_status::want_write, 0, {}};
    if (batching_) {
        auto& bytes = batch_bytes();
        bytes.insert(bytes.end(), data, data + size);
        return {io_status::ok, size, {}};
    }
    return send_or_queue(s, last_error, data, size, false);
}

io_result channel_iocp::send_or_queue(socket_type& s, boost::system::error_code& last_error, const char* data,
                                      std::size_t size, bool all) {
    boost::system::error_code ec;
    const auto n = s.write_some(asio::buffer(data, size), ec);
    // A part taken is enough for a plain write (OpenSSL offers the rest again), not for a
    // batch, whose bytes OpenSSL already counts as sent: losing its rest corrupts the stream.
    if (!ec && (n == size || !all)) return {io_status::ok, n, {}};
    if (ec && !channel_would_block(ec)) return channel_failure(ec, io_status::want_write, last_error);
    // The socket cannot take (the rest of) the bytes now: keep a copy and let an overlapped
    // send finish it. The caller sees them as written and waits (want_write) before writing more.
    const std::size_t rest = size - (ec ? 0 : n);
    out_.reset(new char[rest]);
    std::memcpy(out_.get(), data + (size - rest), rest);
    sending_ = true;
    asio::async_write(s, asio::buffer(out_.get(), rest),
                      [this, last = &last_error, keep = owner_.lock()](const boost::system::error_code& e,
                                                                       std::size_t) { on_sent(*last, e); });
    return {io_status::ok, size, {}};
}

void channel_iocp::on_sent(boost::system::error_code& last_error, const boost::system::error_code& ec) {
    sending_ = false;
    out_.reset();
    if (ec) last_error = ec;
    auto waiters = std::move(write_waiters_);
    write_waiters_.clear();
    for (auto& w : waiters) w(ec);
}

void channel_iocp::start_receive_wait(socket_type& s, asio::windows::overlapped_ptr& op) {
    DWORD err = 0;
    if (test_starter != nullptr) {
        err = test_starter(s.native_handle(), op.get());
    } else {
        WSABUF none{0, nullptr};
        DWORD received = 0;
        DWORD flags = 0;
        if (::WSARecv(s.native_handle(), &none, 1, &received, &flags, op.get(), nullptr) != 0)
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

}  // namespace tlsbroker::core
