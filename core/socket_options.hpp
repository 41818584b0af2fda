// Options set on every accepted client socket and every backend socket.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/system/error_code.hpp>

#include "config/config.hpp"

namespace tlsbroker::core {

// TCP_NODELAY, SO_KEEPALIVE with the configured idle/interval/count, non-blocking mode.
// Returns the first failure; the caller closes that socket only (a client that resets
// right after connect makes these fail, and that must never affect the listener).
boost::system::error_code apply_socket_options(boost::asio::ip::tcp::socket& s,
                                               const config::keepalive_config& ka);

}  // namespace tlsbroker::core
