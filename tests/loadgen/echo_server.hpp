// The echo backend: one io_context and one SO_REUSEPORT acceptor per thread (with
// --max-connections, one acceptor feeding every thread). Echoes every byte; the client's
// EOF becomes shutdown(send) once everything read was echoed. With `proxy` each connection
// starts with a PROXY v1/v2 header, described in one JSON line. Never stops accepting: at
// the limit the acceptor waits for a free slot (taken before accepting), after an accept
// error it backs off 5 ms → 1 s and retries.
#pragma once

#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace echo {

namespace net = boost::asio;
using tcp = net::ip::tcp;

struct config {
    tcp::endpoint listen;
    unsigned threads = 2;
    bool proxy = false;               // expect a PROXY header on every connection
    std::size_t max_connections = 0;  // 0: no limit
    double header_timeout_s = 10;     // for the PROXY header
    // Receives one JSON line per connection (proxy mode); called from any thread.
    std::function<void(const std::string&)> report;
};

// Shared by the listeners and the sessions.
struct stats {
    std::atomic<std::uint64_t> accepted{0}, closed{0}, proxy_errors{0}, accept_errors{0}, full_waits{0}, next_id{0};
    std::atomic<std::size_t> slots{0};  // taken: open connections and pending accepts
};

class listener;

class server {
public:
    explicit server(config cfg);  // binds; throws on failure
    ~server();
    tcp::endpoint local() const { return local_; }
    const stats& counters() const { return *stats_; }
    // Runs the contexts on background threads (returns at once) ...
    void start();
    // ... or on this thread and the others until stop().
    void run();
    void stop();  // thread-safe

private:
    config cfg_;
    std::shared_ptr<stats> stats_;
    std::vector<std::unique_ptr<net::io_context>> ctx_;
    // A thread whose context has no acceptor waits for sockets handed to it.
    std::vector<net::executor_work_guard<net::io_context::executor_type>> work_;
    std::vector<std::unique_ptr<listener>> listeners_;
    std::vector<std::thread> threads_;
    tcp::endpoint local_;
};

}  // namespace echo
