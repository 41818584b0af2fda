#include "core/session/tls_io.hpp"

#include <openssl/bio.h>
#include <openssl/err.h>

#include "core/session/channel.hpp"
#include "core/tls/tls_context.hpp"

namespace tlsbroker::core {

namespace {

channel& io_of(BIO* b) { return *static_cast<channel*>(BIO_get_data(b)); }

int bio_write(BIO* b, const char* data, std::size_t size, std::size_t* written) {
    BIO_clear_retry_flags(b);
    const auto r = io_of(b).write(data, size);
    if (r.status == io_status::ok) {
        *written = r.bytes;
        return 1;
    }
    if (r.status == io_status::want_write || r.status == io_status::want_read) BIO_set_retry_write(b);
    return 0;
}

int bio_read(BIO* b, char* data, std::size_t size, std::size_t* read) {
    BIO_clear_retry_flags(b);
    const auto r = io_of(b).read(data, size);
    if (r.status == io_status::ok) {
        *read = r.bytes;
        return 1;
    }
    if (r.status == io_status::want_read || r.status == io_status::want_write) BIO_set_retry_read(b);
    return 0;  // eof or error: the channel's last_error() tells them apart
}

long bio_ctrl(BIO*, int cmd, long, void*) { return cmd == BIO_CTRL_FLUSH ? 1 : 0; }

int bio_create(BIO* b) {
    BIO_set_init(b, 1);
    return 1;
}

const BIO_METHOD* channel_method() {
    static const BIO_METHOD* method = [] {
        BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "tlsbroker channel");
        BIO_meth_set_write_ex(m, bio_write);
        BIO_meth_set_read_ex(m, bio_read);
        BIO_meth_set_ctrl(m, bio_ctrl);
        BIO_meth_set_create(m, bio_create);
        return m;
    }();
    return method;
}

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
            // close_notify, or (SSL_OP_IGNORE_UNEXPECTED_EOF) a transport end in its place: OpenSSL
            // stops reading at a close_notify, so a channel that has read the end of stream
            // means there was none.
            r.status = io_status::eof;
            if (BIO* b = SSL_get_rbio(ssl); b != nullptr) r.truncated = io_of(b).at_eof();
            return r;
        case SSL_ERROR_SYSCALL: {
            r.tls_error = ERR_peek_error();
            const auto text = openssl_error_text();
            r.status = io_status::error;
            if (!text.empty()) {
                r.error = text;
            } else if (BIO* b = SSL_get_rbio(ssl); b != nullptr && io_of(b).last_error()) {
                // A reset or another transport error (on every platform: the channel keeps the
                // system's own code, errno or WSAGetLastError()).
                r.error = io_of(b).last_error().message();
            } else {
                // End of stream without close_notify (kept as EOF by SSL_OP_IGNORE_UNEXPECTED_EOF
                // after the handshake; during it the peer simply went away).
                r.status = io_status::eof;
                r.truncated = true;
            }
            return r;
        }
        default:
            r.status = io_status::error;
            r.tls_error = ERR_peek_error();
            r.error = openssl_error_text();
            if (r.error.empty()) r.error = "TLS protocol error";
            return r;
    }
}

}  // namespace

ssl_ptr make_server_ssl(SSL_CTX* ctx, channel& io) {
    ssl_ptr ssl(SSL_new(ctx));
    if (!ssl) return ssl;
    BIO* b = BIO_new(channel_method());
    if (b == nullptr) return nullptr;
    BIO_set_data(b, &io);
    SSL_set_bio(ssl.get(), b, b);  // one reference, used for both directions
    SSL_set_accept_state(ssl.get());
    return ssl;
}

io_result tls_handshake(SSL* ssl) {
    ERR_clear_error();
    const int ret = SSL_do_handshake(ssl);
    if (ret == 1) return {};
    return classify(ssl, ret);
}

io_result tls_read(SSL* ssl, char* data, std::size_t size) {
    ERR_clear_error();
    std::size_t n = 0;
    const int ret = SSL_read_ex(ssl, data, size, &n);
    if (ret != 1) return classify(ssl, ret);
    // One SSL_read gives one record (at most 16 KiB). Records already read ahead from the
    // socket fill the rest of the buffer without another system call, so the other side gets
    // one large write instead of one per record. Whatever stops the fill (no more buffered
    // records, an end, an error) is met again by the next call.
    while (n < size && SSL_has_pending(ssl) == 1) {
        std::size_t more = 0;
        ERR_clear_error();
        if (SSL_read_ex(ssl, data + n, size - n, &more) != 1) {
            ERR_clear_error();
            break;
        }
        n += more;
    }
    return {io_status::ok, n, {}};
}

io_result tls_write(SSL* ssl, const char* data, std::size_t size) {
    ERR_clear_error();
    std::size_t n = 0;
    // The records of this write leave in one send where the channel batches (Windows).
    auto& io = io_of(SSL_get_wbio(ssl));
    io.begin_batch();
    const int ret = SSL_write_ex(ssl, data, size, &n);
    auto sent = io.end_batch();
    if (sent.status == io_status::error) return sent;
    if (ret == 1) return {io_status::ok, n, {}};
    return classify(ssl, ret);
}

io_result tls_shutdown(SSL* ssl) {
    ERR_clear_error();
    const int ret = SSL_shutdown(ssl);
    if (ret >= 0) return {};  // 0: our close_notify is out; 1: both sides done
    return classify(ssl, ret);
}

}  // namespace tlsbroker::core
