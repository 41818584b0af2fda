// core/socket_options: what is set on every client and backend socket, and that a
// socket_buffer_bytes cap bounds what a peer that stops reading can make the broker queue.
#include "core/accept/socket_options.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <vector>

#ifdef __linux__
#include <netinet/in.h>
#include <netinet/tcp.h>
#endif

namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

struct socket_pair {
    asio::io_context ioc;
    tcp::socket a{ioc};
    tcp::socket b{ioc};
    socket_pair() {
        tcp::acceptor acc(ioc, {asio::ip::make_address("127.0.0.1"), 0});
        a.connect(acc.local_endpoint());
        acc.accept(b);
    }
};

int receive_buffer(tcp::socket& s) {
    asio::socket_base::receive_buffer_size o;
    s.get_option(o);
    return o.value();
}

TEST(socket_options, sets_nodelay_keepalive_and_non_blocking) {
    socket_pair p;
    tlsbroker::config::listener_config cfg;
    cfg.socket_buffer_bytes = 0;
    ASSERT_FALSE(tlsbroker::core::apply_socket_options(p.b, cfg));
    asio::ip::tcp::no_delay nd;
    p.b.get_option(nd);
    EXPECT_TRUE(nd.value());
    asio::socket_base::keep_alive ka;
    p.b.get_option(ka);
    EXPECT_TRUE(ka.value());
    EXPECT_TRUE(p.b.non_blocking());
}

TEST(socket_options, zero_leaves_the_system_buffer_sizes) {
    socket_pair p;
    const int before = receive_buffer(p.b);
    tlsbroker::config::listener_config cfg;
    cfg.socket_buffer_bytes = 0;
    ASSERT_FALSE(tlsbroker::core::apply_socket_options(p.b, cfg));
    EXPECT_EQ(receive_buffer(p.b), before);
}

// A sender capped at 64 KiB towards a receiver capped the same way, which never reads: the
// sender's non-blocking writes stop after a bounded amount (its send buffer plus the
// receiver's window), instead of the megabytes that autotuned loopback buffers take.
TEST(socket_options, a_cap_bounds_what_a_reader_that_stopped_lets_through) {
    socket_pair p;
    tlsbroker::config::listener_config cfg;
    cfg.socket_buffer_bytes = 64 * 1024;
    ASSERT_FALSE(tlsbroker::core::apply_socket_options(p.a, cfg));
    ASSERT_FALSE(tlsbroker::core::apply_socket_options(p.b, cfg));
    const int rcv = receive_buffer(p.b);
    EXPECT_GE(rcv, 64 * 1024);
    EXPECT_LE(rcv, 2 * 64 * 1024 + 4096);  // Linux reports twice the value (bookkeeping)

    std::vector<char> chunk(16 * 1024, 'x');
    std::size_t total = 0;
    for (int i = 0; i < 100000; ++i) {
        boost::system::error_code ec;
        const auto n = p.a.write_some(asio::buffer(chunk), ec);
        if (ec) {
            EXPECT_EQ(ec, asio::error::would_block) << ec.message();
            break;
        }
        total += n;
    }
    EXPECT_GT(total, 0u);
    // Send buffer (2 x 64 KiB as the kernel counts it) plus the receiver's buffer, with room
    // for the kernel's per-packet overhead accounting.
    EXPECT_LE(total, 4u * 2 * 64 * 1024) << "bytes queued towards a reader that stopped";
}

#ifdef __linux__
// What the listeners rely on (socket_options.hpp): options set on a listening socket are
// those of the sockets it accepts.
TEST(socket_options, a_listening_sockets_options_are_inherited_by_accepted_sockets) {
    static_assert(tlsbroker::core::accepted_sockets_inherit_options);
    asio::io_context ioc;
    tlsbroker::config::listener_config cfg;
    cfg.socket_buffer_bytes = 48 * 1024;
    cfg.keepalive.enabled = true;
    cfg.keepalive.idle_s = 41;
    tcp::acceptor acc(ioc);
    acc.open(tcp::v4());
    ASSERT_FALSE(tlsbroker::core::apply_listening_socket_options(acc, cfg));
    acc.bind({asio::ip::make_address("127.0.0.1"), 0});
    acc.listen();
    tcp::socket client(ioc), accepted(ioc);
    client.connect(acc.local_endpoint());
    acc.accept(accepted);
    asio::ip::tcp::no_delay nd;
    accepted.get_option(nd);
    EXPECT_TRUE(nd.value());
    asio::socket_base::keep_alive ka;
    accepted.get_option(ka);
    EXPECT_TRUE(ka.value());
    const int rcv = receive_buffer(accepted);  // the kernel may report up to twice the value
    EXPECT_GE(rcv, 48 * 1024);
    EXPECT_LE(rcv, 2 * 48 * 1024);
    int idle = 0;
    socklen_t len = sizeof idle;
    ASSERT_EQ(::getsockopt(accepted.native_handle(), IPPROTO_TCP, TCP_KEEPIDLE, &idle, &len), 0);
    EXPECT_EQ(idle, 41);
}
#endif

}  // namespace
