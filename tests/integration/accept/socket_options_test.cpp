// The options of listener_config reach both sockets of a session: the client's (on Linux
// inherited from the listening socket, see core/accept/socket_options.hpp) and the backend's (set
// before its connect). Found from the outside, by the sockets' endpoints.
#include <gtest/gtest.h>

#ifdef __linux__
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <optional>

#include "support/broker_harness.hpp"
#include "support/echo_backend.hpp"
#include "support/tls_client.hpp"
#include "support/wait.hpp"

using namespace tlsbroker;
using namespace std::chrono_literals;

namespace {

std::uint16_t port_of(const sockaddr_storage& a) {
    if (a.ss_family == AF_INET) return ntohs(reinterpret_cast<const sockaddr_in&>(a).sin_port);
    if (a.ss_family == AF_INET6) return ntohs(reinterpret_cast<const sockaddr_in6&>(a).sin6_port);
    return 0;
}

// This process's connected TCP socket whose local (or peer) port is `port`.
std::optional<int> connected_socket(std::uint16_t port, bool peer) {
    for (const auto& e : std::filesystem::directory_iterator("/proc/self/fd")) {
        std::error_code ec;
        const auto target = std::filesystem::read_symlink(e.path(), ec).string();
        if (ec || target.rfind("socket:", 0) != 0) continue;
        const int fd = std::stoi(e.path().filename().string());
        sockaddr_storage local{}, remote{};
        socklen_t ll = sizeof local, rl = sizeof remote;
        if (::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &ll) != 0) continue;
        if (::getpeername(fd, reinterpret_cast<sockaddr*>(&remote), &rl) != 0) continue;  // listening, or not TCP
        if (port_of(peer ? remote : local) == port) return fd;
    }
    return std::nullopt;
}

int option(int fd, int level, int name) {
    int v = -1;
    socklen_t l = sizeof v;
    EXPECT_EQ(::getsockopt(fd, level, name, &v, &l), 0) << "fd " << fd << " option " << name;
    return v;
}

void expect_configured(int fd, const char* which) {
    SCOPED_TRACE(which);
    EXPECT_EQ(option(fd, IPPROTO_TCP, TCP_NODELAY), 1);
    EXPECT_EQ(option(fd, SOL_SOCKET, SO_KEEPALIVE), 1);
    EXPECT_EQ(option(fd, IPPROTO_TCP, TCP_KEEPIDLE), 37);
    EXPECT_EQ(option(fd, IPPROTO_TCP, TCP_KEEPINTVL), 7);
    EXPECT_EQ(option(fd, IPPROTO_TCP, TCP_KEEPCNT), 4);
    // Linux reports up to twice the value set (its bookkeeping); autotuned sockets go far beyond.
    EXPECT_GE(option(fd, SOL_SOCKET, SO_RCVBUF), 65536);
    EXPECT_LE(option(fd, SOL_SOCKET, SO_RCVBUF), 2 * 65536);
    EXPECT_GE(option(fd, SOL_SOCKET, SO_SNDBUF), 65536);
    EXPECT_LE(option(fd, SOL_SOCKET, SO_SNDBUF), 2 * 65536);
}

}  // namespace

TEST(socket_options, client_and_backend_sockets_carry_the_listener_options) {
    test::echo_backend backend;
    test::broker_harness broker(
        backend.port(), {{"listeners",
                          {{{"socket_buffer_bytes", 65536},
                            {"keepalive", {{"enabled", true}, {"idle_s", 37}, {"interval_s", 7}, {"count", 4}}}}}}});
    test::tls_client c;
    ASSERT_TRUE(c.open(broker.port())) << c.error();
    ASSERT_TRUE(c.write_all("ping"));
    std::string got;
    ASSERT_TRUE(c.read_exact(4, got)) << c.error();  // relaying: both sockets exist
    const auto client_side = connected_socket(broker.port(), false);
    const auto backend_side = connected_socket(backend.port(), true);
    ASSERT_TRUE(client_side.has_value());
    ASSERT_TRUE(backend_side.has_value());
    expect_configured(*client_side, "accepted client socket");
    expect_configured(*backend_side, "backend socket");
    // Relaying works on the client socket whether or not it was switched to non-blocking.
    ASSERT_TRUE(c.write_all("again"));
    std::string again;
    ASSERT_TRUE(c.read_exact(5, again)) << c.error();
    EXPECT_EQ(again, "again");
}

#endif
