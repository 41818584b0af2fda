// Keepalive timing on POSIX: TCP_KEEPIDLE, TCP_KEEPINTVL and TCP_KEEPCNT where they exist.
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

}  // namespace tlsbroker::core
