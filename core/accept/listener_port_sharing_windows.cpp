// Port sharing on Windows: none (no SO_REUSEPORT group to steer new connections within). The
// listener drains the old queue, closes it, then binds anew.
#include <boost/asio/error.hpp>

#include "core/accept/listener_port_sharing.hpp"

namespace tlsbroker::core {

bool set_port_sharing(boost::asio::ip::tcp::acceptor&, bool, boost::system::error_code& ec) {
    ec = boost::asio::error::operation_not_supported;
    return false;
}

bool steer_to_newest(boost::asio::ip::tcp::acceptor&, boost::system::error_code& ec) {
    ec = boost::asio::error::operation_not_supported;
    return false;
}

}  // namespace tlsbroker::core
