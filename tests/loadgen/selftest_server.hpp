// An in-process TLS echo server for the load generator's self-test: a P-256 key and a
// self-signed certificate for "localhost" / 127.0.0.1 made at start (nothing on disk),
// 127.0.0.1 port 0, its own threads. Handshakes must finish within `handshake_s` seconds.
#pragma once

#include <openssl/x509.h>

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <memory>
#include <thread>
#include <vector>

namespace loadgen {

class selftest_server {
public:
    explicit selftest_server(double handshake_s, std::size_t threads = 2);
    ~selftest_server();
    selftest_server(const selftest_server&) = delete;
    selftest_server& operator=(const selftest_server&) = delete;

    boost::asio::ip::tcp::endpoint endpoint() const { return endpoint_; }
    // The certificate, for a client that verifies it (owned by the server).
    X509* certificate() const { return cert_.get(); }
    std::uint64_t accepted() const { return accepted_; }
    std::uint64_t handshake_failures() const { return handshake_failures_; }

private:
    void do_accept();

    std::unique_ptr<X509, void (*)(X509*)> cert_;
    boost::asio::io_context ioc_;
    boost::asio::ssl::context tls_;
    boost::asio::ip::tcp::acceptor acceptor_;
    boost::asio::ip::tcp::endpoint endpoint_;
    double handshake_s_;
    std::atomic<std::uint64_t> accepted_{0}, handshake_failures_{0};
    std::vector<std::thread> threads_;
};

}  // namespace loadgen
