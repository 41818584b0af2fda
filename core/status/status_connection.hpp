// One connection to the status endpoint: wait for a request (at most the idle timeout, then
// the connection is closed and counted), read it, refuse what only a browser would send
// (status_guard.hpp) and what lacks its token (status_access.hpp), answer it, repeat while
// keep-alive holds. The endpoint that accepted it routes requests and runs reloads off the
// I/O threads.
#pragma once

#include <array>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "core/common/counters.hpp"
#include "core/status/status_access.hpp"
#include "core/status/status_server.hpp"

namespace tlsbroker::core {

class status_connection;

// What a connection needs from the endpoint that accepted it.
class status_connection_owner {
public:
    using request = boost::beast::http::request<boost::beast::http::string_body>;
    using response = boost::beast::http::response<boost::beast::http::string_body>;

    // Registers a connection from `source` (status_source_key); false: close it.
    virtual bool add(status_connection* c, const std::weak_ptr<status_connection>& w, const std::string& source) = 0;
    virtual void remove(status_connection* c) = 0;
    // The rules in force (replaced at a reload; a request keeps the ones it started with).
    virtual std::shared_ptr<const status_access> access() const = 0;
    // A refusal (401 without the route's token, 403 for a reload while HTTP reload is off), or
    // nullopt when the request may go on.
    virtual std::optional<http_reply> authorize(const request& req, const status_access& a) = 0;
    virtual response route(const request& req) = 0;
    virtual bool is_reload(const request& req) const = 0;
    // Runs the reload and then done(reply) on another thread, or refuses at once.
    virtual std::optional<http_reply> start_reload(std::function<void(http_reply)> done) = 0;
    // A refusal by the guard (status_refused_origin, status_refused_host) or an idle close.
    virtual void count(counter c) = 0;

protected:
    ~status_connection_owner() = default;
};

boost::beast::http::response<boost::beast::http::string_body> make_response(http_reply r, unsigned version,
                                                                            bool keep_alive);
http_reply text(unsigned status, std::string body);

class status_connection : public std::enable_shared_from_this<status_connection> {
public:
    status_connection(boost::asio::ip::tcp::socket socket, std::shared_ptr<status_connection_owner> owner);
    ~status_connection();

    void run();
    // Any thread.
    void close();

private:
    void do_read();
    void on_first_bytes(boost::system::error_code ec, std::size_t n);
    void do_read_rest();
    void on_read(boost::system::error_code ec, std::size_t);
    void do_reload(unsigned version, bool keep);
    void reply_error(unsigned status, std::string body);
    void do_write();
    void on_write(boost::system::error_code ec, std::size_t);
    void do_linger();
    void finish(boost::system::error_code ec);

    static constexpr std::size_t body_limit = std::size_t{8} * 1024;
    static constexpr std::size_t header_limit = std::size_t{8} * 1024;
    static constexpr std::size_t first_read = std::size_t{4} * 1024;  // what is read while waiting for a request

    boost::beast::tcp_stream stream_;
    std::shared_ptr<status_connection_owner> owner_;
    boost::beast::flat_buffer buffer_{header_limit + body_limit};
    std::optional<boost::beast::http::request_parser<boost::beast::http::string_body>> parser_;
    status_connection_owner::response res_;
    std::array<char, 4096> scratch_{};
    std::size_t drained_ = 0;
};

}  // namespace tlsbroker::core
