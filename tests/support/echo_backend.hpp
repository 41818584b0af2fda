// An in-process TCP backend for tests: echoes (default), or plays a scripted peer.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/accept/proxy_protocol.hpp"

namespace tlsbroker::test {

class echo_backend {
public:
    struct options {
        bool echo = true;                  // send back what arrives
        std::size_t greet_then_close = 0;  // >0: send this many bytes, shut the send side, then only read
        bool never_read = false;           // accept and never read (a backend that stops reading)
        bool expect_proxy = false;         // each connection starts with a PROXY v1/v2 header
        std::uint16_t port = 0;            // 0: any free port on 127.0.0.1
    };

    echo_backend();
    explicit echo_backend(options o);
    ~echo_backend();
    echo_backend(const echo_backend&) = delete;
    echo_backend& operator=(const echo_backend&) = delete;

    std::uint16_t port() const { return port_; }
    std::size_t connections() const { return connections_.load(); }
    std::size_t open_connections() const { return open_.load(); }
    std::size_t bytes_received() const { return received_.load(); }
    // Connections that ended with a reset from the broker, and with an end of stream.
    std::size_t resets() const { return resets_.load(); }
    std::size_t clean_ends() const { return clean_ends_.load(); }
    // The greeting sent in greet_then_close mode (deterministic).
    static std::string greeting(std::size_t n);
    // PROXY headers received so far (expect_proxy), and the number that failed to parse.
    std::vector<core::parsed_proxy> proxy_headers() const;
    std::size_t proxy_errors() const { return proxy_errors_.load(); }
    void stop();

private:
    void accept_loop();
    void serve(int fd);

    options opts_;
    int listen_fd_ = -1;
    std::uint16_t port_ = 0;
    std::atomic<bool> stop_{false};
    std::atomic<std::size_t> connections_{0};
    std::atomic<std::size_t> open_{0};
    std::atomic<std::size_t> received_{0};
    std::atomic<std::size_t> resets_{0};
    std::atomic<std::size_t> clean_ends_{0};
    std::thread acceptor_;
    mutable std::mutex mutex_;
    std::vector<core::parsed_proxy> headers_;
    std::atomic<std::size_t> proxy_errors_{0};
    std::vector<std::thread> workers_;
    std::vector<int> fds_;
};

// A port on 127.0.0.1 that nothing listens on (bound then closed).
std::uint16_t unused_port();

}  // namespace tlsbroker::test
