// A connected TCP pair on 127.0.0.1 for tests of one side of a connection.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

namespace tlsbroker::test {

// Connects `peer` to a fresh listener on 127.0.0.1 and returns the accepted side,
// non-blocking (as the broker's sockets are).
boost::asio::ip::tcp::socket accepted_side(boost::asio::io_context& ioc, boost::asio::ip::tcp::socket& peer);

}  // namespace tlsbroker::test
