#include "support/echo_backend.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <stdexcept>

namespace tlsbroker::test {

namespace {
int listen_loopback(std::uint16_t& port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(port);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(fd, 1024) != 0)
        throw std::runtime_error("echo backend cannot listen");
    socklen_t len = sizeof a;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    port = ntohs(a.sin_port);
    return fd;
}
}  // namespace

echo_backend::echo_backend() : echo_backend(options{}) {}

echo_backend::echo_backend(options o) : opts_(o) {
    port_ = o.port;
    listen_fd_ = listen_loopback(port_);
    acceptor_ = std::thread([this] { accept_loop(); });
}

echo_backend::~echo_backend() { stop(); }

std::string echo_backend::greeting(std::size_t n) {
    std::string s(n, '\0');
    for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + i % 26);
    return s;
}

void echo_backend::stop() {
    if (stop_.exchange(true)) return;
    if (acceptor_.joinable()) acceptor_.join();
    ::close(listen_fd_);
    {
        std::lock_guard lock(mutex_);
        for (int fd : fds_) ::shutdown(fd, SHUT_RDWR);
    }
    for (auto& t : workers_) t.join();
    for (int fd : fds_) ::close(fd);
}

void echo_backend::accept_loop() {
    while (!stop_) {
        pollfd p{listen_fd_, POLLIN, 0};
        if (::poll(&p, 1, 20) <= 0) continue;
        const int fd = ::accept(listen_fd_, nullptr, nullptr);
        if (fd < 0) continue;
        ++connections_;
        ++open_;
        std::lock_guard lock(mutex_);
        fds_.push_back(fd);
        workers_.emplace_back([this, fd] { serve(fd); });
    }
}

void echo_backend::serve(int fd) {
    if (opts_.greet_then_close > 0) {
        const auto g = greeting(opts_.greet_then_close);
        ::send(fd, g.data(), g.size(), MSG_NOSIGNAL);
        ::shutdown(fd, SHUT_WR);
    }
    char buf[65536];
    if (opts_.expect_proxy) {
        std::string got;
        for (;;) {
            const auto n = ::recv(fd, buf, sizeof buf, 0);
            if (n <= 0) {
                ++proxy_errors_;
                ::shutdown(fd, SHUT_RDWR);
                --open_;
                return;
            }
            got.append(buf, static_cast<std::size_t>(n));
            std::string err;
            const auto h = core::parse_proxy_header(got, err);
            if (!h && err.empty()) continue;
            if (!h) {
                ++proxy_errors_;
                ::shutdown(fd, SHUT_RDWR);
                --open_;
                return;
            }
            {
                std::lock_guard lock(mutex_);
                headers_.push_back(*h);
            }
            const auto rest = got.substr(h->consumed);
            received_ += rest.size();
            if (!rest.empty()) ::send(fd, rest.data(), rest.size(), MSG_NOSIGNAL);
            break;
        }
    }
    while (!stop_) {
        if (opts_.never_read) {
            pollfd p{fd, 0, 0};
            ::poll(&p, 1, 20);
            if (p.revents & (POLLHUP | POLLERR)) break;
            continue;
        }
        const auto n = ::recv(fd, buf, sizeof buf, 0);
        if (n == 0) ++clean_ends_;
        if (n < 0 && errno == ECONNRESET) ++resets_;
        if (n <= 0) break;
        received_ += static_cast<std::size_t>(n);
        if (opts_.echo && opts_.greet_then_close == 0) {
            ssize_t off = 0;
            while (off < n) {
                const auto w = ::send(fd, buf + off, static_cast<std::size_t>(n - off), MSG_NOSIGNAL);
                if (w <= 0) break;
                off += w;
            }
        }
    }
    ::shutdown(fd, SHUT_WR);
    --open_;
}

std::vector<core::parsed_proxy> echo_backend::proxy_headers() const {
    std::lock_guard lock(mutex_);
    return headers_;
}

std::uint16_t unused_port() {
    std::uint16_t port = 0;
    const int fd = listen_loopback(port);
    ::close(fd);
    return port;
}

}  // namespace tlsbroker::test
