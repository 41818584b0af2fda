#include "core/accept/socket_options.hpp"

namespace tlsbroker::core {

namespace {

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
        if ((ec = set_keepalive_timing(s.native_handle(), ka))) return ec;
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
