// Handshake, idle and write-stall timeouts free the connection and are counted; nobody
// else is held up.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <stdexcept>
#include <thread>

#include "support/broker_harness.hpp"
#include "support/echo_backend.hpp"
#include "support/tls_client.hpp"
#include "support/wait.hpp"

using namespace tlsbroker;
using namespace std::chrono_literals;

TEST(timeouts, slowloris_is_freed_by_the_handshake_timeout) {
    test::echo_backend backend;
    test::broker_harness broker(backend.port(), {{"listeners", {{{"timeouts", {{"handshake_ms", 300}}}}}}});
    test::tls_client silent;
    ASSERT_TRUE(silent.connect(broker.port()));
    test::tls_client half;  // half a ClientHello, then nothing
    ASSERT_TRUE(half.connect(broker.port()));
    ASSERT_TRUE(half.write_raw(std::string("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11)));
    EXPECT_TRUE(silent.wait_closed(5s));
    EXPECT_TRUE(half.wait_closed(5s));
    EXPECT_TRUE(test::wait_until([&] { return broker.counter(core::counter::handshakes_timeout) == 2; }, 5s));
    EXPECT_EQ(broker.counter(core::counter::handshakes_in_progress), 0u);
    // The slot is released just after the socket closes: wait for it rather than race it.
    EXPECT_TRUE(test::wait_until([&] { return broker.counter(core::counter::connections_active) == 0; }, 5s));
    // Meanwhile a real client is served.
    test::tls_client c;
    std::string got;
    ASSERT_TRUE(c.open(broker.port()) && c.write_all("hi") && c.read_exact(2, got)) << c.error();
}

TEST(timeouts, idle_connection_is_closed_after_idle_ms) {
    test::echo_backend backend;
    test::broker_harness broker(backend.port(), {{"listeners", {{{"timeouts", {{"idle_ms", 300}}}}}}});
    test::tls_client c;
    ASSERT_TRUE(c.open(broker.port()));
    std::string got;
    ASSERT_TRUE(c.write_all("x") && c.read_exact(1, got));
    EXPECT_TRUE(c.wait_closed(5s));
    EXPECT_TRUE(test::wait_until([&] { return broker.counter(core::counter::timeouts_idle) == 1; }, 5s));
}

TEST(timeouts, client_that_stops_reading_is_cut_loose_by_write_stall) {
    test::echo_backend backend;
    test::broker_harness broker(backend.port(), {{"listeners", {{{"timeouts", {{"write_stall_ms", 400}}}}}}});
    test::tls_client stuck;
    ASSERT_TRUE(stuck.open(broker.port()));
    stuck.set_timeout(100ms);
    // Send far more than the socket buffers hold, never reading the echo.
    const auto chunk = test::random_bytes(64 * 1024, 3);
    for (int i = 0; i < 400; ++i)
        if (!stuck.write_all(chunk)) break;
    EXPECT_TRUE(test::wait_until([&] { return broker.counter(core::counter::timeouts_write_stall) == 1; }, 10s));
    // Others are served while and after it is stuck.
    test::tls_client c;
    std::string got;
    ASSERT_TRUE(c.open(broker.port()) && c.write_all("ok") && c.read_exact(2, got)) << c.error();
    EXPECT_EQ(got, "ok");
}

namespace {

// A backend that reads a trickle: 512 bytes every 100 ms (~5 KB/s) from one connection, with a
// small receive buffer and segment size so that every read or two opens the window again.
class trickle_backend {
public:
    trickle_backend() {
        listener_ = ::socket(AF_INET, SOCK_STREAM, 0);
        const int one = 1, mss = 1000, rcvbuf = 4096;
        ::setsockopt(listener_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        ::setsockopt(listener_, IPPROTO_TCP, TCP_MAXSEG, &mss, sizeof mss);  // inherited by the accepted socket
        ::setsockopt(listener_, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof a;
        if (::bind(listener_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(listener_, 4) != 0 ||
            ::getsockname(listener_, reinterpret_cast<sockaddr*>(&a), &len) != 0)
            throw std::runtime_error("trickle_backend: cannot listen");
        port_ = ntohs(a.sin_port);
        thread_ = std::thread([this] { run(); });
    }
    ~trickle_backend() {
        stop_ = true;
        ::shutdown(listener_, SHUT_RDWR);
        thread_.join();
        ::close(listener_);
    }
    std::uint16_t port() const { return port_; }

private:
    void run() {
        const int fd = ::accept(listener_, nullptr, nullptr);
        if (fd < 0) return;
        char buf[512];
        while (!stop_ && ::recv(fd, buf, sizeof buf, 0) > 0)
            std::this_thread::sleep_for(100ms);  // the trickle's pace, not a wait for a condition
        ::close(fd);
    }
    int listener_ = -1;
    std::uint16_t port_ = 0;
    std::atomic<bool> stop_{false};
    std::thread thread_;
};

}  // namespace

// A backend that reads a trickle never lets the broker's buffer for it drain: each read
// frees a little room, so the broker's writes keep making some progress (every few hundred
// ms), yet the 64 KiB it holds is not taken within write_stall_ms. That is a stall: a write is
// stalled from when it first has to wait until the whole buffer it holds has been taken.
TEST(timeouts, backend_that_reads_a_trickle_is_cut_loose_by_write_stall) {
    trickle_backend backend;
    test::broker_harness broker(
        backend.port(), {{"listeners", {{{"timeouts", {{"write_stall_ms", 1500}}}, {"socket_buffer_bytes", 4096}}}}});
    test::tls_client c;
    ASSERT_TRUE(c.open(broker.port()));
    c.set_timeout(200ms);
    const auto chunk = test::random_bytes(16 * 1024, 5);
    const auto until = std::chrono::steady_clock::now() + 10s;
    // Keep the broker's buffer towards the backend full until it gives up on the backend.
    while (std::chrono::steady_clock::now() < until && broker.counter(core::counter::timeouts_write_stall) == 0)
        if (!c.write_all(chunk) && c.wait_closed(0ms)) break;
    EXPECT_TRUE(test::wait_until([&] { return broker.counter(core::counter::timeouts_write_stall) == 1; }, 5s));
}

TEST(timeouts, backend_that_stops_reading_is_cut_loose_by_write_stall) {
    test::echo_backend::options o;
    o.never_read = true;
    test::echo_backend backend(o);
    test::broker_harness broker(backend.port(), {{"listeners", {{{"timeouts", {{"write_stall_ms", 400}}}}}}});
    test::tls_client c;
    ASSERT_TRUE(c.open(broker.port()));
    c.set_timeout(100ms);
    const auto chunk = test::random_bytes(64 * 1024, 4);
    for (int i = 0; i < 400; ++i)
        if (!c.write_all(chunk)) break;
    EXPECT_TRUE(test::wait_until([&] { return broker.counter(core::counter::timeouts_write_stall) == 1; }, 10s));
}
