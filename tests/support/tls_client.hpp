// A blocking TLS client for tests (OpenSSL on a plain socket, with timeouts).
#pragma once

#include <openssl/ssl.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace tlsbroker::test {

class tls_client {
public:
    tls_client();
    ~tls_client();
    tls_client(const tls_client&) = delete;
    tls_client& operator=(const tls_client&) = delete;

    // TCP connect only. Returns false (with error()) on failure.
    bool connect(std::uint16_t port, const char* host = "127.0.0.1",
                 std::chrono::milliseconds timeout = std::chrono::milliseconds(5000));
    bool handshake(const char* sni = "localhost");
    bool open(std::uint16_t port) { return connect(port) && handshake(); }

    bool write_all(std::string_view data);
    // Writes all of `data` while reading whatever arrives into `out`, from this one thread,
    // then keeps reading until `out` holds `read_until` bytes. Both directions move at once
    // without a second thread: an SSL object must never be used by two threads at a time.
    bool transfer(std::string_view data, std::string& out, std::size_t read_until,
                  std::chrono::milliseconds timeout = std::chrono::milliseconds(30000));
    // Reads exactly n bytes (false on EOF, error or timeout).
    bool read_exact(std::size_t n, std::string& out);
    // Reads until the peer closes; true when it ended cleanly (close_notify or TCP EOF).
    bool read_to_eof(std::string& out);
    // Sends close_notify and shuts the TCP send side down: a half-close.
    void shutdown_write();
    // Sends raw bytes on the TCP socket, bypassing TLS.
    bool write_raw(std::string_view data);
    // True when the server closed the TCP connection (reads EOF/reset within timeout).
    bool wait_closed(std::chrono::milliseconds timeout);
    void set_timeout(std::chrono::milliseconds t);
    void close();
    void reset();  // SO_LINGER 0 then close: the peer sees a reset

    // Caps the protocol version offered (TLS1_2_VERSION, TLS1_3_VERSION); call before handshake().
    void set_max_version(int version);
    // Presents a client certificate (mutual TLS); call before handshake().
    bool use_certificate(const std::string& cert_file, const std::string& key_file);
    // The server certificate's subject common name after the handshake ("" when none).
    std::string peer_common_name() const;

    int fd() const { return fd_; }
    SSL* ssl() const { return ssl_; }
    const std::string& error() const { return error_; }
    bool session_reused() const;
    SSL_SESSION* session() const;
    void set_session(SSL_SESSION* s);

private:
    int fd_ = -1;
    SSL_CTX* ctx_ = nullptr;
    SSL* ssl_ = nullptr;
    std::string error_;
};

std::string random_bytes(std::size_t n, std::uint32_t seed);

// A client's way through one connection that tries to resume a session.
struct resumption_attempt {
    bool handshake = false;          // the client finished its handshake
    bool reused = false;             // ... by resuming the session it offered
    bool relayed = false;            // and bytes went to the backend and back
    SSL_SESSION* session = nullptr;  // the session to offer next time (caller frees), or null
};

// Connects to 127.0.0.1:port at most at `max_version`, offering `resume` (may be null) and
// presenting `client_cert` (may be null), exchanges a few bytes, and takes a resumable
// session from it (waiting for a TLS 1.3 ticket). 5 s per step.
struct cert_files;
resumption_attempt connect_and_resume(std::uint16_t port, int max_version, SSL_SESSION* resume,
                                      const cert_files* client_cert = nullptr);

// The serial (hex) of the certificate a fresh handshake with 127.0.0.1:port gets; "" when the
// handshake failed.
std::string served_serial(std::uint16_t port);

// One TLS connection to 127.0.0.1:port that sends `msg` and reads it back (5 s per step).
bool round_trip(std::uint16_t port, const std::string& msg, const char* sni = "localhost");

}  // namespace tlsbroker::test
