#include "blackhole.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <stdexcept>

namespace tlsbroker::test {

namespace {

sockaddr_in loopback(std::uint16_t port) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(port);
    return a;
}

// True when a non-blocking connect to `port` completes within 300 ms; the socket is kept in
// `fd` either way.
bool connects(std::uint16_t port, int& fd) {
    fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (fd < 0) throw std::runtime_error("blackhole: socket failed");
    const auto a = loopback(port);
    if (::connect(fd, reinterpret_cast<const sockaddr*>(&a), sizeof a) == 0) return true;
    pollfd p{fd, POLLOUT, 0};
    if (::poll(&p, 1, 300) != 1) return false;
    int err = 0;
    socklen_t len = sizeof err;
    ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
    return err == 0;
}

}  // namespace

blackhole::blackhole() {
    listener_ = ::socket(AF_INET, SOCK_STREAM, 0);
    auto a = loopback(0);
    socklen_t len = sizeof a;
    if (listener_ < 0 || ::bind(listener_, reinterpret_cast<const sockaddr*>(&a), sizeof a) != 0 ||
        ::listen(listener_, 0) != 0 || ::getsockname(listener_, reinterpret_cast<sockaddr*>(&a), &len) != 0)
        throw std::runtime_error("blackhole: cannot listen");
    port_ = ntohs(a.sin_port);
    for (int i = 0; i < 16; ++i) {
        int fd = -1;
        const bool ok = connects(port_, fd);
        if (ok) {
            fillers_.push_back(fd);
            continue;
        }
        ::close(fd);
        return;  // the queue is full: SYNs to the port now go unanswered
    }
    throw std::runtime_error("blackhole: the accept queue never filled up");
}

blackhole::~blackhole() {
    for (int fd : fillers_) ::close(fd);
    if (listener_ >= 0) ::close(listener_);
}

}  // namespace tlsbroker::test
