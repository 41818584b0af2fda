// The small HTTP status endpoint (Boost.Beast): / (the page for people), /healthz, /status,
// /metrics, POST /reload. Its access rules (tokens, allowed Host names, idle timeout) are a
// status_access, given at construction and replaced by configure().
// It knows nothing of listeners; the server hands it callbacks that render each page. Its
// accept mechanism is the listeners' accept_loop; its accept errors are counted
// (status_accept_errors_*).
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <functional>
#include <memory>
#include <string>

#include "core/accept/accept_loop.hpp"
#include "core/common/counters.hpp"
#include "core/status/status_access.hpp"

namespace tlsbroker::core {

struct http_reply {
    unsigned status = 200;
    std::string content_type = "text/plain; charset=utf-8";
    std::string body;
};

struct status_handlers {
    std::function<http_reply()> page;     // GET / (absent: 404)
    std::function<http_reply()> healthz;  // GET /healthz
    std::function<http_reply()> status;   // GET /status
    std::function<http_reply()> metrics;  // GET /metrics
    std::function<http_reply()> reload;   // POST /reload (absent: 404; without a reload token: 403)
    // Where refusals are counted (status_refused_*); may be null. Must outlive the endpoint.
    counter_block* counters = nullptr;
};

class status_server {
public:
    // Binds at once; throws boost::system::system_error when it cannot.
    status_server(boost::asio::io_context& ioc, const boost::asio::ip::tcp::endpoint& ep, status_handlers handlers,
                  status_access access = {});
    ~status_server();
    status_server(const status_server&) = delete;
    status_server& operator=(const status_server&) = delete;

    boost::asio::ip::tcp::endpoint local_endpoint() const;
    // New access rules (a reload), for requests read from now on. Any thread.
    void configure(status_access access);
    void stop();  // closes the acceptor and every open status connection
    // Tests: accepts are started by `ops` from the next arm on (a fault seam); `applied`
    // runs once it is in place.
    void use_accept_operations(std::shared_ptr<accept_operations> ops, std::function<void()> applied = {});

private:
    struct impl;
    std::shared_ptr<impl> impl_;
};

}  // namespace tlsbroker::core
