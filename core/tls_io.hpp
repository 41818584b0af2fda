// Readiness-based TLS: OpenSSL works directly on the non-blocking socket descriptor and the
// caller waits for readability or writability with the socket's async_wait. There are no
// per-connection BIO pairs or fixed record buffers: with SSL_MODE_RELEASE_BUFFERS an idle
// connection keeps only the SSL object itself.
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
};

struct ssl_deleter {
    void operator()(SSL* s) const { SSL_free(s); }
};
using ssl_ptr = std::unique_ptr<SSL, ssl_deleter>;

// A server-side SSL bound to `fd` (a socket or a SOCKET handle).
ssl_ptr make_server_ssl(SSL_CTX* ctx, std::intptr_t fd);

io_result tls_handshake(SSL* ssl);
io_result tls_read(SSL* ssl, char* data, std::size_t size);
io_result tls_write(SSL* ssl, const char* data, std::size_t size);
// Sends close_notify (ok when sent; want_* to retry).
io_result tls_shutdown(SSL* ssl);

}  // namespace tlsbroker::core
