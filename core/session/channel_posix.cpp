#include "core/session/channel_posix.hpp"

#include <sys/socket.h>

#include <cerrno>

#include "core/session/channel.hpp"

namespace tlsbroker::core {

std::size_t channel_posix::receive(socket_type& s, char* data, std::size_t size, boost::system::error_code& ec) {
    ec.clear();
    if (size == 0) return 0;
    for (;;) {
        const auto n = ::recv(s.native_handle(), data, size, MSG_DONTWAIT);
        if (n > 0) return static_cast<std::size_t>(n);
        if (n == 0) {
            ec = boost::asio::error::eof;
            return 0;
        }
        if (errno == EINTR) continue;
        ec.assign(errno, boost::system::system_category());
        return 0;
    }
}

io_result channel_posix::write(socket_type& s, boost::system::error_code& last_error, const char* data,
                               std::size_t size) {
    if (size == 0) return {io_status::ok, 0, {}};
    for (;;) {
        const auto n = ::send(s.native_handle(), data, size, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n >= 0) return {io_status::ok, static_cast<std::size_t>(n), {}};
        if (errno == EINTR) continue;
        return channel_failure(boost::system::error_code(errno, boost::system::system_category()),
                               io_status::want_write, last_error);
    }
}

}  // namespace tlsbroker::core
