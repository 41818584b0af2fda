#include "core/tls_io.hpp"

#include <openssl/err.h>

#include <cerrno>
#include <cstring>

#include "core/tls_context.hpp"

namespace tlsbroker::core {

namespace {

io_result classify(SSL* ssl, int ret) {
    io_result r;
    switch (SSL_get_error(ssl, ret)) {
    case SSL_ERROR_WANT_READ:
        r.status = io_status::want_read;
        return r;
    case SSL_ERROR_WANT_WRITE:
        r.status = io_status::want_write;
        return r;
    case SSL_ERROR_ZERO_RETURN:
        r.status = io_status::eof;
        return r;
    case SSL_ERROR_SYSCALL: {
        const auto text = openssl_error_text();
        r.status = io_status::error;
        if (!text.empty())
            r.error = text;
        else if (errno != 0)
            r.error = std::strerror(errno);
        else {
            // End of stream without close_notify (kept as EOF by SSL_OP_IGNORE_UNEXPECTED_EOF
            // after the handshake; during it the peer simply went away).
            r.status = io_status::eof;
        }
        return r;
    }
    default:
        r.status = io_status::error;
        r.error = openssl_error_text();
        if (r.error.empty()) r.error = "TLS protocol error";
        return r;
    }
}

}  // namespace

ssl_ptr make_server_ssl(SSL_CTX* ctx, std::intptr_t fd) {
    ssl_ptr ssl(SSL_new(ctx));
    if (!ssl) return ssl;
    if (SSL_set_fd(ssl.get(), static_cast<int>(fd)) != 1) return nullptr;
    SSL_set_accept_state(ssl.get());
    return ssl;
}

io_result tls_handshake(SSL* ssl) {
    ERR_clear_error();
    errno = 0;
    const int ret = SSL_do_handshake(ssl);
    if (ret == 1) return {};
    return classify(ssl, ret);
}

io_result tls_read(SSL* ssl, char* data, std::size_t size) {
    ERR_clear_error();
    errno = 0;
    std::size_t n = 0;
    const int ret = SSL_read_ex(ssl, data, size, &n);
    if (ret == 1) return {io_status::ok, n, {}};
    return classify(ssl, ret);
}

io_result tls_write(SSL* ssl, const char* data, std::size_t size) {
    ERR_clear_error();
    errno = 0;
    std::size_t n = 0;
    const int ret = SSL_write_ex(ssl, data, size, &n);
    if (ret == 1) return {io_status::ok, n, {}};
    return classify(ssl, ret);
}

io_result tls_shutdown(SSL* ssl) {
    ERR_clear_error();
    errno = 0;
    const int ret = SSL_shutdown(ssl);
    if (ret >= 0) return {};  // 0: our close_notify is out; 1: both sides done
    return classify(ssl, ret);
}

}  // namespace tlsbroker::core
