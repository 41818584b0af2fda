#include "selftest_server.hpp"

#include <openssl/evp.h>
#include <openssl/x509v3.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <stdexcept>

#include "tls_conn.hpp"

namespace loadgen {

namespace {

void check(bool ok, const char* what) {
    if (!ok) throw std::runtime_error(std::string("self-test certificate: ") + what);
}

// A fresh P-256 key and a self-signed certificate valid for a day.
std::pair<EVP_PKEY*, X509*> make_identity() {
    EVP_PKEY* key = EVP_EC_gen("P-256");
    check(key != nullptr, "key generation");
    X509* x = X509_new();
    check(x != nullptr, "X509_new");
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
    X509_gmtime_adj(X509_getm_notBefore(x), -3600);
    X509_gmtime_adj(X509_getm_notAfter(x), 86400);
    X509_NAME* name = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("localhost"), -1, -1,
                               0);
    X509_set_issuer_name(x, name);
    X509_set_pubkey(x, key);
    X509V3_CTX v3;
    X509V3_set_ctx_nodb(&v3);
    X509V3_set_ctx(&v3, x, x, nullptr, nullptr, 0);
    X509_EXTENSION* san = X509V3_EXT_conf_nid(nullptr, &v3, NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1");
    check(san != nullptr, "subjectAltName");
    X509_add_ext(x, san, -1);
    X509_EXTENSION_free(san);
    check(X509_sign(x, key, EVP_sha256()) > 0, "signing");
    return {key, x};
}

// One connection: handshake under a deadline, echo until the client's close_notify or EOF,
// answer with our close_notify.
net::awaitable<void> session(net::ssl::stream<tcp::socket> stream, double handshake_s,
                             std::atomic<std::uint64_t>& handshake_failures) {
    net::steady_timer deadline(stream.get_executor());
    deadline.expires_after(std::chrono::milliseconds(static_cast<long long>(handshake_s * 1000)));
    deadline.async_wait([&stream](error_code ec) {
        if (!ec) stream.next_layer().close(ec);
    });
    error_code ec;
    co_await stream.async_handshake(net::ssl::stream_base::server, with(ec));
    deadline.cancel();
    if (ec) {
        ++handshake_failures;
        stream.next_layer().close(ec);
        co_return;
    }
    std::vector<char> buf(65536);
    for (;;) {
        const auto n = co_await stream.async_read_some(net::buffer(buf), with(ec));
        if (ec) break;
        co_await net::async_write(stream, net::buffer(buf.data(), n), with(ec));
        if (ec) break;
    }
    if (ec == net::error::eof) co_await stream.async_shutdown(with(ec));
    stream.next_layer().close(ec);
}

}  // namespace

selftest_server::selftest_server(double handshake_s, std::size_t threads)
    : cert_(nullptr, X509_free), tls_(net::ssl::context::tls_server), acceptor_(ioc_), handshake_s_(handshake_s) {
    auto [key, cert] = make_identity();
    cert_.reset(cert);
    SSL_CTX* c = tls_.native_handle();
    SSL_CTX_set_min_proto_version(c, TLS1_2_VERSION);
    const bool ok = SSL_CTX_use_certificate(c, cert) == 1 && SSL_CTX_use_PrivateKey(c, key) == 1;
    EVP_PKEY_free(key);
    check(ok, "loading into the server context");
    const tcp::endpoint ep(net::ip::make_address("127.0.0.1"), 0);
    acceptor_.open(ep.protocol());
    acceptor_.set_option(tcp::acceptor::reuse_address(true));
    acceptor_.bind(ep);
    acceptor_.listen(4096);
    endpoint_ = acceptor_.local_endpoint();
    do_accept();
    for (std::size_t i = 0; i < std::max<std::size_t>(1, threads); ++i) threads_.emplace_back([this] { ioc_.run(); });
}

selftest_server::~selftest_server() {
    ioc_.stop();
    for (auto& t : threads_) t.join();
}

void selftest_server::do_accept() {
    acceptor_.async_accept(net::make_strand(ioc_), [this](error_code ec, tcp::socket s) {
        if (ec) {
            // Out of descriptors or the like: try again a little later, never stop accepting.
            auto timer = std::make_shared<net::steady_timer>(ioc_, std::chrono::milliseconds(50));
            timer->async_wait([this, timer](error_code) { do_accept(); });
            return;
        }
        ++accepted_;
        s.set_option(tcp::no_delay(true), ec);
        const auto exec = s.get_executor();
        net::co_spawn(exec,
                      session(net::ssl::stream<tcp::socket>(std::move(s), tls_), handshake_s_, handshake_failures_),
                      net::detached);
        do_accept();
    });
}

}  // namespace loadgen
