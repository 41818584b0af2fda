// TLS over a channel: OpenSSL reads and writes through a small BIO that calls the
// channel's non-blocking read and write, and the caller waits with the channel when OpenSSL
// wants more. There are no per-connection BIO pairs or fixed record buffers: with
// SSL_MODE_RELEASE_BUFFERS an idle connection keeps only the SSL object itself.
#pragma once

#include <openssl/ssl.h>

#include <cstddef>
#include <memory>
#include <string>

namespace tlsbroker::core {

enum class io_status {
    ok,          // `bytes` were transferred (or the operation finished)
    want_read,   // wait until the socket is readable, then call again
    want_write,  // wait until the socket is writable, then call again
    eof,         // the peer closed (close_notify or TCP end of stream)
    error,       // fatal: `error` says why
};

struct io_result {
    io_status status = io_status::ok;
    std::size_t bytes = 0;
    std::string error;
    // error: OpenSSL's first error code (0 when the failure was the transport's, or none).
    unsigned long tls_error = 0;
    // eof from the TLS layer: the transport ended with no close_notify before it (the stream
    // may have been cut short).
    bool truncated = false;
};

struct ssl_deleter {
    void operator()(SSL* s) const { SSL_free(s); }
};
using ssl_ptr = std::unique_ptr<SSL, ssl_deleter>;

class channel;

// A server-side SSL that reads and writes through `io`, which must outlive it.
ssl_ptr make_server_ssl(SSL_CTX* ctx, channel& io);

// After a failure, the error text names the channel's system error when there is one (a
// reset is an error on every platform); a transport end without close_notify is eof with
// `truncated` set.
io_result tls_handshake(SSL* ssl);
io_result tls_read(SSL* ssl, char* data, std::size_t size);
io_result tls_write(SSL* ssl, const char* data, std::size_t size);
// Sends close_notify (ok when sent; want_* to retry).
io_result tls_shutdown(SSL* ssl);

}  // namespace tlsbroker::core
