// Options set on every accepted client socket and every backend socket.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/system/error_code.hpp>

#include "config/config.hpp"

namespace tlsbroker::core {

// TCP_NODELAY, SO_KEEPALIVE with the configured idle/interval/count, the socket buffer
// sizes when `socket_buffer_bytes` caps them, non-blocking mode. Returns the first failure;
// the caller closes that socket only (a client that resets right after connect makes these
// fail, and that must never affect the listener).
boost::system::error_code apply_socket_options(boost::asio::ip::tcp::socket& s,
                                               const config::listener_config& cfg);

}  // namespace tlsbroker::core
