#include "core/accept/socket_options.hpp"

#ifdef _WIN32
#include <winsock2.h>
#include <mstcpip.h>
#include <ws2tcpip.h>
#else
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#endif

namespace tlsbroker::core {

namespace {

#ifdef _WIN32
template <class Socket>
boost::system::error_code set_keepalive_timing(Socket& s, const config::keepalive_config& ka) {
    tcp_keepalive v{};
    v.onoff = 1;
    v.keepalivetime = ka.idle_s * 1000;
    v.keepaliveinterval = ka.interval_s * 1000;
    DWORD returned = 0;
    if (WSAIoctl(s.native_handle(), SIO_KEEPALIVE_VALS, &v, sizeof v, nullptr, 0, &returned, nullptr, nullptr) != 0)
        return {WSAGetLastError(), boost::system::system_category()};
    return {};
}
#else
boost::system::error_code set_int(int fd, int level, int name, int value) {
    if (::setsockopt(fd, level, name, &value, sizeof value) != 0) return {errno, boost::system::system_category()};
    return {};
}

template <class Socket>
boost::system::error_code set_keepalive_timing(Socket& s, const config::keepalive_config& ka) {
    const int fd = s.native_handle();
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
#endif

// The options a connection socket and a listening socket share.
template <class Socket>
boost::system::error_code apply_connection_options(Socket& s, const config::listener_config& cfg) {
    const auto& ka = cfg.keepalive;
    boost::system::error_code ec;
    s.set_option(boost::asio::ip::tcp::no_delay(true), ec);
    if (ec) return ec;
    if (const int bytes = static_cast<int>(cfg.socket_buffer_bytes); bytes > 0) {
        s.set_option(boost::asio::socket_base::receive_buffer_size(bytes), ec);
        if (ec) return ec;
        s.set_option(boost::asio::socket_base::send_buffer_size(bytes), ec);
        if (ec) return ec;
    }
    if (ka.enabled) {
        s.set_option(boost::asio::socket_base::keep_alive(true), ec);
        if (ec) return ec;
        if ((ec = set_keepalive_timing(s, ka))) return ec;
    }
    return ec;
}

}  // namespace

boost::system::error_code apply_socket_options(boost::asio::ip::tcp::socket& s, const config::listener_config& cfg) {
    if (auto ec = apply_connection_options(s, cfg)) return ec;
    boost::system::error_code ec;
    s.non_blocking(true, ec);
    return ec;
}

boost::system::error_code apply_listening_socket_options(boost::asio::ip::tcp::acceptor& a,
                                                         const config::listener_config& cfg) {
    return apply_connection_options(a, cfg);
}

}  // namespace tlsbroker::core
