// Options set on every client socket and every backend socket.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/system/error_code.hpp>
#include <cstdint>
#include <optional>

#include "config/config.hpp"
#include "core/common/platform.hpp"

namespace tlsbroker::core {

// Linux: a socket accept() returns inherits TCP_NODELAY, the keepalive settings and the
// buffer sizes of its listening socket. The listeners set them there once, and an accepted
// socket needs no system call of its own: the channel reads and writes it with
// MSG_DONTWAIT, so it need not be switched to non-blocking either. Elsewhere (Windows)
// each accepted socket gets apply_socket_options().
inline constexpr bool accepted_sockets_inherit_options = on_linux;

// TCP_NODELAY, SO_KEEPALIVE with the configured idle/interval/count, the socket buffer
// sizes when `socket_buffer_bytes` caps them, non-blocking mode. Returns the first failure;
// the caller closes that socket only (a client that resets right after connect makes these
// fail, and that must never affect the listener). Backend sockets get them before connect,
// so that the buffer size also sets the window scale the SYN offers.
boost::system::error_code apply_socket_options(boost::asio::ip::tcp::socket& s, const config::listener_config& cfg);

// The keepalive idle time, interval and (where the platform has it) probe count on a socket
// or listening socket: the platform half, in socket_options_posix.cpp and
// socket_options_windows.cpp.
boost::system::error_code set_keepalive_timing(boost::asio::ip::tcp::socket::native_handle_type fd,
                                               const config::keepalive_config& ka);

// The same options (without non-blocking mode) on a listening socket, before it listens,
// where accepted_sockets_inherit_options says accepted sockets take them from it.
boost::system::error_code apply_listening_socket_options(boost::asio::ip::tcp::acceptor& a,
                                                         const config::listener_config& cfg);

// POSIX: SO_REUSEADDR on a listening socket before it binds, so that a re-created socket binds
// while old connections sit in TIME_WAIT. Windows: nothing (there it would let another
// process take the port).
void allow_rebind_over_time_wait(boost::asio::ip::tcp::acceptor& a);

// The connections waiting in a listening socket's accept queue: Linux reads it from TCP_INFO
// (tcpi_unacked of a listening socket); nullopt where the platform does not tell.
std::optional<std::uint32_t> accept_queue_length(boost::asio::ip::tcp::acceptor& a);

}  // namespace tlsbroker::core
