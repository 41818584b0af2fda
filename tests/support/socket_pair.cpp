#include "support/socket_pair.hpp"

namespace tlsbroker::test {

boost::asio::ip::tcp::socket accepted_side(boost::asio::io_context& ioc, boost::asio::ip::tcp::socket& peer) {
    namespace asio = boost::asio;
    asio::ip::tcp::acceptor acc(ioc, {asio::ip::make_address("127.0.0.1"), 0});
    peer.connect(acc.local_endpoint());
    asio::ip::tcp::socket s(ioc);
    acc.accept(s);
    s.non_blocking(true);
    return s;
}

}  // namespace tlsbroker::test
