// Which mechanism serves the sockets, for /status: on Linux epoll readiness; on Windows the
// I/O completion port, where "select_reactor" must stay false (Asio starts a select()
// thread over every waiting socket the first time anything waits for readiness).
#pragma once

#include <boost/asio/io_context.hpp>
#include <nlohmann/json.hpp>

namespace tlsbroker::core {

nlohmann::json io_report(boost::asio::io_context& ioc);

}  // namespace tlsbroker::core
