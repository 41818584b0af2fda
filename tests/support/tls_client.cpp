#include "support/tls_client.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/x509.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <random>

#include "support/test_certs.hpp"

namespace tlsbroker::test {

namespace {
// Tests write to peers that may have closed: a failed write must return an error, not
// kill the test process with SIGPIPE.
const bool sigpipe_ignored = [] {
    ::signal(SIGPIPE, SIG_IGN);
    return true;
}();

std::string ssl_err(const char* what) {
    char buf[256] = {0};
    const auto e = ERR_get_error();
    if (e != 0) ERR_error_string_n(e, buf, sizeof buf);
    ERR_clear_error();
    return std::string(what) + ": " + (e != 0 ? buf : std::strerror(errno));
}
}  // namespace

tls_client::tls_client() : ctx_(SSL_CTX_new(TLS_client_method())) {
    SSL_CTX_set_verify(ctx_, SSL_VERIFY_NONE, nullptr);
    // Sessions are kept by the caller (session()/set_session()), never in a cache that
    // would mark them non-resumable when this client goes away.
    SSL_CTX_set_session_cache_mode(ctx_, SSL_SESS_CACHE_OFF);
}

tls_client::~tls_client() {
    close();
    SSL_CTX_free(ctx_);
}

void tls_client::set_timeout(std::chrono::milliseconds t) {
    timeval tv{};
    tv.tv_sec = static_cast<time_t>(t.count() / 1000);
    tv.tv_usec = static_cast<suseconds_t>((t.count() % 1000) * 1000);
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

bool tls_client::connect(std::uint16_t port, const char* host, std::chrono::milliseconds timeout) {
    const bool v6 = std::strchr(host, ':') != nullptr;
    fd_ = ::socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM, 0);
    if (fd_ < 0) {
        error_ = std::string("socket: ") + std::strerror(errno);
        return false;
    }
    set_timeout(timeout);
    sockaddr_storage ss{};
    socklen_t len = 0;
    if (v6) {
        auto* a = reinterpret_cast<sockaddr_in6*>(&ss);
        a->sin6_family = AF_INET6;
        a->sin6_port = htons(port);
        ::inet_pton(AF_INET6, host, &a->sin6_addr);
        len = sizeof *a;
    } else {
        auto* a = reinterpret_cast<sockaddr_in*>(&ss);
        a->sin_family = AF_INET;
        a->sin_port = htons(port);
        ::inet_pton(AF_INET, host, &a->sin_addr);
        len = sizeof *a;
    }
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&ss), len) != 0) {
        error_ = std::string("connect: ") + std::strerror(errno);
        return false;
    }
    int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return true;
}

bool tls_client::handshake(const char* sni) {
    if (ssl_ == nullptr) {
        ssl_ = SSL_new(ctx_);
        SSL_set_fd(ssl_, fd_);
    }
    if (sni != nullptr) SSL_set_tlsext_host_name(ssl_, sni);
    if (SSL_connect(ssl_) != 1) {
        error_ = ssl_err("handshake");
        return false;
    }
    return true;
}

bool tls_client::write_all(std::string_view data) {
    std::size_t off = 0;
    while (off < data.size()) {
        std::size_t n = 0;
        if (SSL_write_ex(ssl_, data.data() + off, data.size() - off, &n) != 1) {
            error_ = ssl_err("write");
            return false;
        }
        off += n;
    }
    return true;
}

bool tls_client::transfer(std::string_view data, std::string& out, std::size_t read_until,
                          std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    const int flags = ::fcntl(fd_, F_GETFL);
    ::fcntl(fd_, F_SETFL, flags | O_NONBLOCK);
    SSL_set_mode(ssl_, SSL_MODE_ENABLE_PARTIAL_WRITE);
    const auto fail = [&](std::string why) {
        ::fcntl(fd_, F_SETFL, flags);
        error_ = std::move(why);
        return false;
    };
    std::size_t off = 0;
    char buf[16384];
    while (off < data.size() || out.size() < read_until) {
        bool progress = false;
        short events = 0;
        // A WANT_WRITE retry repeats the same arguments: `off` has not moved.
        if (off < data.size()) {
            std::size_t n = 0;
            if (SSL_write_ex(ssl_, data.data() + off, std::min<std::size_t>(16384, data.size() - off), &n) == 1) {
                off += n;
                progress = true;
            } else {
                const int e = SSL_get_error(ssl_, 0);
                if (e == SSL_ERROR_WANT_WRITE)
                    events |= POLLOUT;
                else if (e == SSL_ERROR_WANT_READ)
                    events |= POLLIN;
                else
                    return fail(ssl_err("write"));
            }
        }
        std::size_t got = 0;
        if (SSL_read_ex(ssl_, buf, sizeof buf, &got) == 1) {
            out.append(buf, got);
            progress = true;
        } else {
            const int e = SSL_get_error(ssl_, 0);
            if (e == SSL_ERROR_WANT_READ)
                events |= POLLIN;
            else if (e == SSL_ERROR_WANT_WRITE)
                events |= POLLOUT;
            else
                return fail(ssl_err("read"));
        }
        if (progress) continue;
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) return fail("transfer: timed out");
        pollfd p{fd_, events, 0};
        ::poll(&p, 1, static_cast<int>(left.count()));
    }
    ::fcntl(fd_, F_SETFL, flags);
    return true;
}

bool tls_client::read_exact(std::size_t n, std::string& out) {
    char buf[16384];
    while (out.size() < n) {
        std::size_t got = 0;
        const auto want = std::min(sizeof buf, n - out.size());
        if (SSL_read_ex(ssl_, buf, want, &got) != 1) {
            error_ = ssl_err("read");
            return false;
        }
        out.append(buf, got);
    }
    return true;
}

bool tls_client::read_to_eof(std::string& out) {
    char buf[16384];
    for (;;) {
        std::size_t got = 0;
        if (SSL_read_ex(ssl_, buf, sizeof buf, &got) == 1) {
            out.append(buf, got);
            continue;
        }
        const int e = SSL_get_error(ssl_, 0);
        if (e == SSL_ERROR_ZERO_RETURN) return true;
        if (e == SSL_ERROR_SYSCALL && errno == 0 && ERR_peek_error() == 0) return true;
        error_ = ssl_err("read");
        return false;
    }
}

void tls_client::shutdown_write() {
    if (ssl_ != nullptr) SSL_shutdown(ssl_);
    ::shutdown(fd_, SHUT_WR);
}

bool tls_client::write_raw(std::string_view data) {
    return ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(data.size());
}

bool tls_client::wait_closed(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    char buf[4096];
    for (;;) {
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) return false;
        pollfd p{fd_, POLLIN, 0};
        if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return false;
        const auto n = ::recv(fd_, buf, sizeof buf, 0);
        if (n <= 0) return true;  // EOF or reset
    }
}

void tls_client::close() {
    if (ssl_ != nullptr) {
        SSL_free(ssl_);
        ssl_ = nullptr;
    }
    if (fd_ >= 0) {
        ::close(fd_);
        fd_ = -1;
    }
}

void tls_client::reset() {
    linger l{1, 0};
    if (fd_ >= 0) ::setsockopt(fd_, SOL_SOCKET, SO_LINGER, &l, sizeof l);
    close();
}

bool tls_client::use_certificate(const std::string& cert_file, const std::string& key_file) {
    return SSL_CTX_use_certificate_chain_file(ctx_, cert_file.c_str()) == 1 &&
           SSL_CTX_use_PrivateKey_file(ctx_, key_file.c_str(), SSL_FILETYPE_PEM) == 1;
}

std::string tls_client::peer_common_name() const {
    if (ssl_ == nullptr) return {};
    X509* cert = SSL_get1_peer_certificate(ssl_);
    if (cert == nullptr) return {};
    char cn[256] = {0};
    X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, cn, sizeof cn);
    X509_free(cert);
    return cn;
}

bool tls_client::session_reused() const { return ssl_ != nullptr && SSL_session_reused(ssl_) == 1; }
SSL_SESSION* tls_client::session() const { return ssl_ != nullptr ? SSL_get1_session(ssl_) : nullptr; }
void tls_client::set_session(SSL_SESSION* s) {
    if (ssl_ == nullptr) {
        ssl_ = SSL_new(ctx_);
        SSL_set_fd(ssl_, fd_);
    }
    SSL_set_session(ssl_, s);
}

void tls_client::set_max_version(int version) { SSL_CTX_set_max_proto_version(ctx_, version); }

resumption_attempt connect_and_resume(std::uint16_t port, int max_version, SSL_SESSION* resume,
                                      const cert_files* client_cert) {
    resumption_attempt r;
    tls_client c;
    c.set_max_version(max_version);
    if (client_cert != nullptr && !c.use_certificate(client_cert->cert.string(), client_cert->key.string())) return r;
    if (!c.connect(port)) return r;
    if (resume != nullptr) c.set_session(resume);
    r.handshake = c.handshake();
    if (!r.handshake) return r;
    r.reused = c.session_reused();
    std::string got;
    // TLS 1.3 reports a refused client on the first read, not in SSL_connect.
    r.relayed = c.write_all("ping") && c.read_exact(4, got) && got == "ping";
    if (!r.relayed) return r;
    // A TLS 1.3 ticket is a post-handshake message: exchange until one has been read.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (std::chrono::steady_clock::now() < deadline) {
        SSL_SESSION* s = c.session();
        if (s != nullptr && SSL_SESSION_is_resumable(s) == 1) {
            r.session = s;
            break;
        }
        SSL_SESSION_free(s);
        if (!c.write_all("more") || !c.read_exact(4, got)) break;
    }
    c.shutdown_write();  // a clean close keeps the session resumable
    return r;
}

std::string random_bytes(std::size_t n, std::uint32_t seed) {
    std::mt19937 rng(seed);
    std::string s(n, '\0');
    for (auto& c : s) c = static_cast<char>(rng());
    return s;
}

bool round_trip(std::uint16_t port, const std::string& msg, const char* sni) {
    tls_client c;
    c.set_timeout(std::chrono::seconds(5));
    std::string got;
    return c.connect(port) && c.handshake(sni) && c.write_all(msg) && c.read_exact(msg.size(), got) && got == msg;
}

std::string served_serial(std::uint16_t port) {
    tls_client c;
    if (!c.open(port)) return {};
    X509* x = SSL_get1_peer_certificate(c.ssl());
    if (x == nullptr) return {};
    auto s = serial_hex(x);
    X509_free(x);
    return s;
}

}  // namespace tlsbroker::test
