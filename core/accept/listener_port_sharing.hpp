// Port sharing, the platform part of a lossless re-create: the replacement listening socket
// is bound beside the old one (SO_REUSEPORT on Linux), new connections are steered to the
// replacement, and the old socket's queue is accepted before it is closed. Where the
// platform has no such sharing (Windows), these report operation_not_supported and the
// listener drains the old queue, closes it, then binds anew (see core/README.md, "The watchdog").
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/system/error_code.hpp>

namespace tlsbroker::core {

// SO_REUSEPORT on (before bind, or on the old listening socket) or off (once the old socket
// is gone, so that no other process can bind beside the listener). Returns false with `ec`
// set when it cannot be done.
bool set_port_sharing(boost::asio::ip::tcp::acceptor& a, bool on, boost::system::error_code& ec);

// Sends every new connection for the shared port to `newest`, the socket that joined the
// port's group last (a one-instruction classic BPF program on the group). Without it the
// kernel would hash new connections across both sockets, and those that land in the old
// socket after its queue was drained would be reset when it closes.
bool steer_to_newest(boost::asio::ip::tcp::acceptor& newest, boost::system::error_code& ec);

}  // namespace tlsbroker::core
