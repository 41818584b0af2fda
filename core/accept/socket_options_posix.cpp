// The POSIX half of socket_options.hpp: keepalive timing (TCP_KEEPIDLE, TCP_KEEPINTVL and
// TCP_KEEPCNT where they exist), SO_REUSEADDR for re-created listeners, and the accept
// queue's length (Linux's TCP_INFO).
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <cerrno>

#include "core/accept/socket_options.hpp"

namespace tlsbroker::core {

namespace {
boost::system::error_code set_int(int fd, int level, int name, int value) {
    if (::setsockopt(fd, level, name, &value, sizeof value) != 0) return {errno, boost::system::system_category()};
    return {};
}
}  // namespace

boost::system::error_code set_keepalive_timing(boost::asio::ip::tcp::socket::native_handle_type fd,
                                               const config::keepalive_config& ka) {
    boost::system::error_code ec;
#ifdef TCP_KEEPIDLE
    if ((ec = set_int(fd, IPPROTO_TCP, TCP_KEEPIDLE, static_cast<int>(ka.idle_s)))) return ec;
#endif
#ifdef TCP_KEEPINTVL
    if ((ec = set_int(fd, IPPROTO_TCP, TCP_KEEPINTVL, static_cast<int>(ka.interval_s)))) return ec;
#endif
#ifdef TCP_KEEPCNT
    if ((ec = set_int(fd, IPPROTO_TCP, TCP_KEEPCNT, static_cast<int>(ka.count)))) return ec;
#endif
    return ec;
}

void allow_rebind_over_time_wait(boost::asio::ip::tcp::acceptor& a) {
    a.set_option(boost::asio::socket_base::reuse_address(true));
}

std::optional<std::uint32_t> accept_queue_length(boost::asio::ip::tcp::acceptor& a) {
#ifdef TCP_INFO
    // For a listening socket, tcpi_unacked is the current accept-queue length.
    tcp_info info{};
    socklen_t len = sizeof info;
    const int fd = a.native_handle();
    if (fd >= 0 && ::getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &len) == 0) return info.tcpi_unacked;
#endif
    (void)a;
    return std::nullopt;
}

}  // namespace tlsbroker::core
