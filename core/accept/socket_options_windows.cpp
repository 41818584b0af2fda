// The Windows half of socket_options.hpp: keepalive timing by SIO_KEEPALIVE_VALS (idle time
// and interval; the probe count is the system's); no SO_REUSEADDR, no accept queue length.
#include <winsock2.h>
#include <mstcpip.h>
#include <ws2tcpip.h>

#include "core/accept/socket_options.hpp"

namespace tlsbroker::core {

boost::system::error_code set_keepalive_timing(boost::asio::ip::tcp::socket::native_handle_type fd,
                                               const config::keepalive_config& ka) {
    tcp_keepalive v{};
    v.onoff = 1;
    v.keepalivetime = ka.idle_s * 1000;
    v.keepaliveinterval = ka.interval_s * 1000;
    DWORD returned = 0;
    if (WSAIoctl(fd, SIO_KEEPALIVE_VALS, &v, sizeof v, nullptr, 0, &returned, nullptr, nullptr) != 0)
        return {WSAGetLastError(), boost::system::system_category()};
    return {};
}

// SO_REUSEADDR on Windows lets another socket bind the same port even while this one listens
// (SO_EXCLUSIVEADDRUSE is the opposite): left off.
void allow_rebind_over_time_wait(boost::asio::ip::tcp::acceptor&) {}

std::optional<std::uint32_t> accept_queue_length(boost::asio::ip::tcp::acceptor&) { return std::nullopt; }

}  // namespace tlsbroker::core
