// Keepalive timing on Windows: SIO_KEEPALIVE_VALS (idle time and interval; the probe count is
// the system's).
#include <winsock2.h>
#include <mstcpip.h>
#include <ws2tcpip.h>

#include "core/accept/socket_options.hpp"

namespace tlsbroker::core {

boost::system::error_code set_keepalive_timing(boost::asio::ip::tcp::socket::native_handle_type s,
                                               const config::keepalive_config& ka) {
    tcp_keepalive v{};
    v.onoff = 1;
    v.keepalivetime = ka.idle_s * 1000;
    v.keepaliveinterval = ka.interval_s * 1000;
    DWORD returned = 0;
    if (WSAIoctl(s, SIO_KEEPALIVE_VALS, &v, sizeof v, nullptr, 0, &returned, nullptr, nullptr) != 0)
        return {WSAGetLastError(), boost::system::system_category()};
    return {};
}

}  // namespace tlsbroker::core
